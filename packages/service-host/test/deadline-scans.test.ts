import { describe, expect, test } from 'vitest';
import { scheduleDeadlineScans } from '../src/index.js';

const silent = { warn: () => undefined };

describe('deadline scans', () => {
  test('scans at once, one scan at a time, dated by the service unless a clock is given; stops on close', async () => {
    const calls: (Date | undefined)[] = [];
    let inFlight = 0;
    let overlapped = false;
    const service = {
      checkDeadlines: async (at?: Date) => {
        inFlight += 1;
        overlapped ||= inFlight > 1;
        calls.push(at);
        await new Promise((r) => setImmediate(r));
        inFlight -= 1;
      },
    };
    const scans = scheduleDeadlineScans(service, { intervalMs: 3_600_000, logger: silent })!;
    await Promise.all([scans.scan(), scans.scan()]);
    expect(calls).toEqual([undefined, undefined, undefined]); // the first at start, then the two asked
    expect(overlapped).toBe(false);
    await scans.close();
    await scans.scan();
    expect(calls).toHaveLength(3);

    const at = new Date('2027-04-12T10:00:00Z');
    const clocked = scheduleDeadlineScans(service, { intervalMs: 1, logger: silent, now: () => at })!;
    await clocked.scan();
    expect(calls.at(-1)).toBe(at);
    await clocked.close();
  });

  test('a failed scan is logged by its code and the next one runs; no deadlines or an interval of 0: none', async () => {
    const warned: unknown[] = [];
    let n = 0;
    const scans = scheduleDeadlineScans(
      {
        checkDeadlines: () => {
          n += 1;
          return n === 1
            ? Promise.reject(Object.assign(new Error('x'), { code: 'ERR_X' }))
            : Promise.resolve();
        },
      },
      { intervalMs: 3_600_000, logger: { warn: (o: unknown) => void warned.push(o) } },
    )!;
    await scans.scan();
    expect(n).toBe(2);
    expect(warned).toEqual([{ code: 'ERR_X' }]);
    await scans.close();
    expect(scheduleDeadlineScans({}, { intervalMs: 60_000, logger: silent })).toBeUndefined();
    expect(
      scheduleDeadlineScans({ checkDeadlines: async () => undefined }, { intervalMs: 0, logger: silent }),
    ).toBeUndefined();
  });
});
