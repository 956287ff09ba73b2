import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironment } from '../config/environment';
import { confineHostFilePath, isInlineJson } from './host-file-path';

describe(confineHostFilePath.name, () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-host-file-')));
  const dir = join(root, 'accounts');
  const outside = join(root, 'outside.json');

  beforeAll(() => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sa.json'), '{}');
    writeFileSync(outside, '{}');
    symlinkSync(outside, join(dir, 'escape.json'));
    symlinkSync(root, join(dir, 'up'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a file inside the directory, named relatively or absolutely, as its real path', () => {
    for (const value of ['sa.json', join(dir, 'sa.json'), 'sub/../sa.json', './sa.json']) {
      expect([value, confineHostFilePath(value, dir)]).toEqual([value, { path: join(dir, 'sa.json') }]);
    }
  });

  it.each([
    ['a parent path', '../outside.json'],
    ['an absolute path outside', outside],
    ['a symbolic link to a file outside', 'escape.json'],
    ['a path through a symbolic link to a directory outside', 'up/outside.json'],
    ['the directory itself', '.'],
  ])('refuses %s without naming where it leads', (_label, value) => {
    const result = confineHostFilePath(value, dir);
    expect(result).toEqual({ error: 'the path must name a file inside GCS_SERVICE_ACCOUNT_DIR (.. and symbolic links leading out of it are refused)' });
  });

  it('says how to allow paths when no directory is set, and what is missing otherwise', () => {
    expect(confineHostFilePath(join(dir, 'sa.json'), undefined)).toEqual({ error: expect.stringMatching(/unless the operator sets GCS_SERVICE_ACCOUNT_DIR/) as unknown });
    expect(confineHostFilePath('missing.json', dir)).toEqual({ error: 'no such file in GCS_SERVICE_ACCOUNT_DIR' });
    expect(confineHostFilePath('sa.json\0x', dir)).toEqual({ error: 'the path contains a NUL character' });
  });

  it('tells inline JSON from a path', () => {
    expect([isInlineJson(' {"type":"service_account"}'), isInlineJson('/srv/sa.json')]).toEqual([true, false]);
  });

  it('GCS_SERVICE_ACCOUNT_DIR is checked at boot and kept as its real path', () => {
    symlinkSync(dir, join(root, 'link-to-accounts'));
    expect(loadEnvironment({ GCS_SERVICE_ACCOUNT_DIR: join(root, 'link-to-accounts') }).GCS_SERVICE_ACCOUNT_DIR).toBe(dir);
    expect(() => loadEnvironment({ GCS_SERVICE_ACCOUNT_DIR: join(root, 'nope') })).toThrow(/GCS_SERVICE_ACCOUNT_DIR: ".*nope" cannot be used \(ENOENT\)/);
    expect(() => loadEnvironment({ GCS_SERVICE_ACCOUNT_DIR: outside })).toThrow(/GCS_SERVICE_ACCOUNT_DIR: ".*outside.json" is not a directory/);
    expect(loadEnvironment({}).GCS_SERVICE_ACCOUNT_DIR).toBeUndefined();
  });
});
