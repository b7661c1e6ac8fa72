import { describe, expect, it } from 'vitest';
import { ServerTiming } from './timing';

describe('ServerTiming', () => {
  it('records each measured step in order, a failed one too, as a Server-Timing header', async () => {
    const timing = new ServerTiming();
    expect(await timing.measure('session', 'session lookup', async () => 7)).toBe(7);
    await expect(
      timing.measure('api', 'API batch', async () => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    expect(timing.header()).toMatch(/^session;dur=\d+\.\d;desc="session lookup", api;dur=\d+\.\d;desc="API batch"$/);
  });
});
