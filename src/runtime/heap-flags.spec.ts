import { HEAP_FLAGS_MARKER, heapFlagsArgs, semiSpaceSetting, workerHeapLimits } from './heap-flags';

describe('heap flags', () => {
  const node = '/usr/bin/node';
  const argv = [node, '/app/dist/src/main.js', '--config', 'c.yaml'];

  it('re-executes with the flag before the script, keeping node flags and arguments', () => {
    expect(heapFlagsArgs(node, ['--enable-source-maps'], argv, {})).toEqual([node, '--enable-source-maps', '--max-semi-space-size=16', '/app/dist/src/main.js', '--config', 'c.yaml']);
  });

  it('does nothing a second time, or when the operator set the flag (NODE_OPTIONS or the command line, either spelling)', () => {
    expect(heapFlagsArgs(node, [], argv, { [HEAP_FLAGS_MARKER]: '1' })).toBeNull();
    expect(heapFlagsArgs(node, [], argv, { NODE_OPTIONS: '--trace-warnings --max-semi-space-size=64' })).toBeNull();
    expect(heapFlagsArgs(node, ['--max_semi_space_size=2'], argv, {})).toBeNull();
    expect(heapFlagsArgs(node, [], argv, { NODE_OPTIONS: '--max-old-space-size=512' })).not.toBeNull();
  });

  it('says who set the size; the command line wins over NODE_OPTIONS', () => {
    expect(semiSpaceSetting([], {})).toEqual({ megabytes: null, source: 'node default' });
    expect(semiSpaceSetting(['--max-semi-space-size=16'], { [HEAP_FLAGS_MARKER]: '1' })).toEqual({ megabytes: 16, source: 'gatehouse' });
    expect(semiSpaceSetting([], { NODE_OPTIONS: '--max-semi-space-size=32' })).toEqual({ megabytes: 32, source: 'operator' });
    expect(semiSpaceSetting(['--max-semi-space-size=4'], { NODE_OPTIONS: '--max-semi-space-size=32' })).toEqual({ megabytes: 4, source: 'operator' });
  });

  it('gives worker threads three semi-spaces of the main isolate size, nothing when V8 decides', () => {
    expect(workerHeapLimits({ megabytes: 8, source: 'gatehouse' })).toEqual({ maxYoungGenerationSizeMb: 24 });
    expect(workerHeapLimits({ megabytes: null, source: 'node default' })).toBeUndefined();
  });
});
