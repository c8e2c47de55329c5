import { BatchLedger } from '@atelier/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { type ApiHarness, CME, DRAWING, startApi } from './api-harness.ts';

/**
 * Generated requests at every `/v1` route, through Fastify's `inject` (no sockets): wrong
 * types, huge strings, deep JSON, odd unicode, bad content types, broken NDJSON, and valid
 * requests with one part changed. Whatever comes in: no answer is a 5xx, a refused request
 * enqueued nothing, and every validation refusal names its field. `FUZZ_RUNS` and `FUZZ_SEED`
 * override the run count (10,000) and the seed (fast-check prints the seed of a failure).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const ctx = new RedisTestContext();
let api: ApiHarness;
let ledger: BatchLedger;
beforeAll(async () => {
  api = await startApi(ctx, {
    env: {
      ATELIER_RATE_LIMIT_PER_MIN: '100000000',
      ATELIER_CALLBACK_SECRET: 'fuzz-secret',
      ATELIER_BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
      ATELIER_BATCH_MAX_ITEMS: '50',
    },
    api: { batchSweep: false },
  });
  ledger = new BatchLedger(ctx.connection(), api.prefix);
});
afterAll(() => ctx.cleanup());

interface FuzzRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

// --- Pieces -------------------------------------------------------------------------------

/** Strings that break things: odd unicode, controls, huge, numeric-looking, path-looking. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u2066',
    '%',
    '%E0%A4%A',
    '../../etc/passwd',
    'dr_',
    'dr_x~1',
    'b_',
    '__proto__',
    'constructor',
    'null',
    'NaN',
    'Infinity',
    '-0',
    '1e309',
    '9'.repeat(400),
    '2024-13-45T99:99:99Z',
    'x'.repeat(300),
  ),
  fc.nat({ max: 100_000 }).map((n) => 'é'.repeat(n % 5000)),
  fc.integer({ min: -1e15, max: 1e15 }).map(String),
);
const huge = fc.nat({ max: 3 }).map((n) => 'ж'.repeat([1000, 70_000, 200_000, 1_000_000][n] ?? 0));

/** JSON nested far deeper than any schema: arrays, objects, or a field holding them. */
const deep = fc
  .record({ depth: fc.integer({ min: 100, max: 20_000 }), kind: fc.nat({ max: 3 }) })
  .map(({ depth, kind }) => {
    if (kind === 0) return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (kind === 1) return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    if (kind === 2) return `{"text":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    return `{"items":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
  });

/** Any JSON value, small or not. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  nasty,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(nasty, { maxLength: 5 }),
  huge,
);

/** A valid request with one field changed to anything (or removed, or one added). */
function mutated<T extends Record<string, unknown>>(base: T) {
  const keys = [...Object.keys(base), 'idempotencyKey', 'callbackUrl', 'priority', 'num', 'x'];
  return fc
    .record({ key: fc.constantFrom(...keys), value: anyJson, remove: fc.boolean() })
    .map(({ key, value, remove }) => {
      const copy: Record<string, unknown> = { ...base };
      if (remove) delete copy[key];
      else copy[key] = value;
      return copy;
    });
}

const body = fc.oneof(
  { weight: 3, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  { weight: 4, arbitrary: mutated(DRAWING).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: mutated(CME).map((v) => JSON.stringify(v)) },
  {
    weight: 3,
    arbitrary: fc
      .record({ items: fc.array(fc.oneof(mutated(DRAWING), anyJson), { maxLength: 4 }) })
      .chain((b) => mutated(b as Record<string, unknown>))
      .map((v) => JSON.stringify(v)),
  },
  { weight: 2, arbitrary: deep },
  { weight: 2, arbitrary: nasty },
  {
    weight: 1,
    arbitrary: huge.map((s) => `{"text":"${s}","style":"油画","resolution":"1024*1024"}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.oneof(
          mutated(DRAWING).map((v) => JSON.stringify(v)),
          nasty,
          deep,
        ),
        { maxLength: 5 },
      )
      .map((lines) => lines.join(fc.sample(fc.constantFrom('\n', '\r\n', '\n\n'), 1)[0])),
  },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constant('application/x-ndjson') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/jsonl',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json;;;',
      '*/*',
      'garbage',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const id = fc.oneof(
  nasty.map((s) => encodeURIComponent(s.toWellFormed())),
  fc.constantFrom('dr_nope', 'cm_nope', 'b_nope', 'dr_b_x~0', '%', '%zz', '%E0%A4%A', 'a%2Fb'),
  fc.nat({ max: 400 }).map((n) => 'd'.repeat(n)),
);

/** A query string of known and unknown keys with any values (sometimes repeated). */
const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'queue',
          'code',
          'batchId',
          'since',
          'until',
          'offset',
          'limit',
          'callbackUrl',
          'idempotencyKey',
          'priority',
        ),
        nasty,
      ),
      nasty,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

const route = fc.oneof(
  fc.constant({ method: 'POST' as const, path: '/v1/drawings', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/cme/operations', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/batches', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/batches', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/dead-letters/replay', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/dead-letters/purge', body: true }),
  fc.constant({ method: 'GET' as const, path: '/v1/dead-letters', body: false }),
  id.map((i) => ({ method: 'GET' as const, path: `/v1/jobs/${i}`, body: false })),
  id.map((i) => ({ method: 'GET' as const, path: `/v1/batches/${i}`, body: false })),
  id.map((i) => ({ method: 'GET' as const, path: `/v1/batches/${i}/results`, body: false })),
  id.map((i) => ({ method: 'GET' as const, path: `/v1/dead-letters/${i}`, body: false })),
  id.map((i) => ({ method: 'DELETE' as const, path: `/v1/dead-letters/${i}`, body: false })),
  id.map((i) => ({ method: 'POST' as const, path: `/v1/dead-letters/${i}/replay`, body: true })),
  fc
    .tuple(id, id)
    .map(([a, b]) => ({ method: 'GET' as const, path: `/v1/images/${a}/${b}`, body: false })),
  fc.constant({ method: 'PUT' as const, path: '/v1/drawings', body: true }),
);

const request: fc.Arbitrary<FuzzRequest> = fc
  .record({ route, query, contentType, body, withBody: fc.nat({ max: 9 }) })
  .map(({ route, query, contentType, body, withBody }) => {
    const headers: Record<string, string> = {};
    if (contentType !== undefined) headers['content-type'] = contentType;
    const sendBody = route.body ? withBody > 0 : withBody === 0;
    return {
      method: route.method,
      url: `${route.path}${query}`,
      headers,
      ...(sendBody ? { payload: body } : {}),
    };
  });

// --- The property ---------------------------------------------------------------------------

async function counts(): Promise<string> {
  const [drawings, cme, batches] = await Promise.all([
    api.drawingQueue.count(),
    api.cmeQueue.count(),
    ledger.list(1000),
  ]);
  return `${drawings}/${cme}/${batches.length}`;
}

/**
 * What an issue's message must name: the last segment of its field (`items.3.text` → `text`),
 * or for a whole batch item (`items.3`) "the item" (NDJSON messages say `line N` instead of
 * the index, which `field` carries).
 */
function named(field: string): string {
  if (/^items\.\d+$/.test(field)) return 'item';
  return field.split('.').at(-1) ?? field;
}

describe('fuzzing every /v1 route', () => {
  it(`answers ${RUNS} generated requests without a 5xx; refusals enqueue nothing and name the field`, {
    timeout: 240_000,
  }, async () => {
    let before = await counts();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await api.call({ ...req, payload: req.payload });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const where = `${req.method} ${req.url.slice(0, 200)} (${req.headers['content-type']}): ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect(res.statusCode, where).toBeLessThan(500);
        const after = await counts();
        if (res.statusCode >= 400) {
          expect(after, `a refused request changed the queues: ${where}`).toBe(before);
          const { error } = res.json();
          expect(typeof error?.code, where).toBe('string');
          expect(error.message.length, where).toBeGreaterThan(0);
          if (error.code === 'VALIDATION_FAILED') {
            const issues = error.details?.issues ?? error.details;
            expect(Array.isArray(issues) && issues.length > 0, where).toBe(true);
            for (const issue of issues) {
              expect(issue.field, where).toMatch(/\S/);
              expect(issue.rule, where).toMatch(/\S/);
              expect(issue.message, where).toContain(named(issue.field));
            }
          }
        }
        before = after;
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: false },
    );
    // The run reached the door's every answer, not only its first refusal.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([202, 400, 404]));
  });
});
