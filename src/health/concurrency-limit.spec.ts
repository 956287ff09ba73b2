import { ConcurrencyLimit } from './model-health.service';

describe(ConcurrencyLimit.name, () => {
  it('runs at most `limit` tasks at once, the rest in arrival order, and passes failures through', async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (index: number) => async (): Promise<number> => {
      started.push(index);
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      if (index === 3) throw new Error('task 3 failed');
      return index;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((index) => limit.run(task(index))));
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'failed'))).toEqual([0, 1, 2, 'failed', 4, 5]);
    // The slots are all free again: two more run at once.
    await Promise.all([limit.run(task(6)), limit.run(task(7))]);
    expect(peak).toBe(2);
  });
});
