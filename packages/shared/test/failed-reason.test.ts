import { describe, expect, it } from 'vitest';
import { parseFailedReason } from '../src/failed-reason.ts';

describe('parseFailedReason', () => {
  it('reads the worker’s "[CODE] message" form', () => {
    expect(parseFailedReason('[POLL_TIMEOUT] gave up\nafter a while')).toEqual({
      code: 'POLL_TIMEOUT',
      message: 'gave up\nafter a while',
    });
    expect(parseFailedReason('plain')).toEqual({ code: 'FAILED', message: 'plain' });
    expect(parseFailedReason(undefined)).toEqual({ code: 'FAILED', message: 'failed' });
  });

  it('gives BullMQ’s own reasons stable codes', () => {
    const stalled = 'job stalled more than allowable limit';
    expect(parseFailedReason(stalled)).toEqual({ code: 'STALLED_LIMIT', message: stalled });
    const started = 'job started more than allowable limit';
    expect(parseFailedReason(started)).toEqual({ code: 'STARTED_LIMIT', message: started });
  });
});
