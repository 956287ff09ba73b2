import { EVENTS_PER_SLICE, mapInSlices } from './destination-support';

describe('mapInSlices', () => {
  it('maps in order and lets the event loop run between slices, not within one', async () => {
    const items = Array.from({ length: EVENTS_PER_SLICE * 2 + 5 }, (_, i) => i);
    const seen: string[] = [];
    // Work queued on the event loop (an arriving request, here) runs after the first slice, not after the batch.
    setImmediate(() => seen.push('request'));
    const mapped = await mapInSlices(items, (i) => {
      seen.push(`item ${i}`);
      return i * 2;
    });
    expect(mapped).toEqual(items.map((i) => i * 2));
    expect(seen.indexOf('request')).toBe(EVENTS_PER_SLICE);
  });
});
