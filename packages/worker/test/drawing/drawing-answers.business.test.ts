import { describe, expect, it } from 'vitest';
import { queryOutcome, submitOutcome } from '../../src/drawing/drawing-answers.ts';
import { answer, failed } from './drawing-answer-fixtures.ts';

const SUBMIT_OK = { code: 200, msg: '成功', taskNo: 'req-1', data: { taskId: 'abc123' } };
const IMG = 'https://img.example.com/1.png';

describe('drawing answers, spec "Responses": submit', () => {
  it('code 200 success → ok {taskId, taskNo}', () => {
    expect(submitOutcome(answer(SUBMIT_OK))).toEqual({
      kind: 'ok',
      value: { taskId: 'abc123', taskNo: 'req-1' },
    });
  });

  it('code 200 given as a numeric string "200" → ok', () => {
    expect(submitOutcome(answer({ ...SUBMIT_OK, code: '200' })).kind).toBe('ok');
  });

  it('taskId as a bare JSON number beyond 2^53 keeps every digit (22 digits)', () => {
    const text = '{"code":200,"msg":"成功","data":{"taskId":1234567890123456789012}}';
    expect(submitOutcome(answer(text))).toEqual({
      kind: 'ok',
      value: { taskId: '1234567890123456789012' },
    });
  });

  it('taskId as a small bare number becomes its decimal string', () => {
    expect(submitOutcome(answer({ code: 200, data: { taskId: 42 } }))).toEqual({
      kind: 'ok',
      value: { taskId: '42' },
    });
  });

  it('extra fields are ignored; `waiting` becomes a hint in ms', () => {
    const body = { ...SUBMIT_OK, charge: 1, data: { taskId: 't', waiting: 12, other: {} } };
    expect(submitOutcome(answer(body))).toEqual({
      kind: 'ok',
      value: { taskId: 't', taskNo: 'req-1', hintMs: 12_000 },
    });
  });
});

describe('drawing answers, spec "Responses": query', () => {
  const done = {
    code: 200,
    msg: '成功',
    taskNo: 'q-1',
    charge: 1,
    data: {
      img: IMG,
      imgUrls: [{ image: IMG }, { image: 'https://img.example.com/2.png' }],
      createTime: '2023-09-21 22:15:41',
      status: 1,
    },
  };

  it('status 1 = finished → ok with imgUrls[].image and createTime', () => {
    expect(queryOutcome(answer(done))).toEqual({
      kind: 'ok',
      value: { images: [IMG, 'https://img.example.com/2.png'], createTime: '2023-09-21 22:15:41' },
    });
  });

  it('status 1 without imgUrls falls back to img', () => {
    const body = { code: 200, data: { img: IMG, status: '1' } };
    expect(queryOutcome(answer(body))).toEqual({ kind: 'ok', value: { images: [IMG] } });
  });

  it('status 0 = still processing → pending, `waiting` seconds as hintMs', () => {
    expect(queryOutcome(answer({ code: 200, data: { status: 0, waiting: 7 } }))).toEqual({
      kind: 'pending',
      hintMs: 7000,
    });
    expect(queryOutcome(answer({ code: '200', data: { status: '0', waiting: '2.5' } }))).toEqual({
      kind: 'pending',
      hintMs: 2500,
    });
  });

  it('status 0 without `waiting` → pending without a hint', () => {
    expect(queryOutcome(answer({ code: 200, data: { status: 0 } }))).toEqual({ kind: 'pending' });
  });

  it('any other status (9) → terminal STATUS_9', () => {
    const error = failed(
      queryOutcome(answer({ code: 200, msg: '失败', data: { status: 9 } })),
      'terminal',
      'STATUS_9',
    );
    expect(error.providerMessage).toBe('失败');
  });
});

describe('drawing answers, spec "Business codes"', () => {
  it.each([
    ['201', 'taskId does not exist'],
    ['202', 'text blocked by moderation'],
    ['400', 'bad parameter'],
  ])('code %s (%s) → terminal → dead-letter queue', (code) => {
    const body = { code: Number(code), msg: `msg ${code}`, data: null };
    for (const outcome of [submitOutcome(answer(body)), queryOutcome(answer(body))]) {
      const error = failed(outcome, 'terminal', code);
      expect(error.providerMessage).toBe(`msg ${code}`);
      expect(error.httpStatus).toBe(200);
      expect(error.retryable).toBe(false);
    }
  });

  it.each([
    ['500', 'provider under maintenance'],
    ['501', 'upstream official data source under maintenance'],
  ])('code %s (%s) → outage (back off for minutes)', (code) => {
    const error = failed(
      submitOutcome(answer({ code: String(code), msg: '维护' })),
      'outage',
      code,
    );
    expect(error.retryable).toBe(true);
    expect(error.providerMessage).toBe('维护');
  });

  it('code 999 (other) → retryable a few times (retryLimit 3)', () => {
    const error = failed(queryOutcome(answer({ code: 999, msg: '其他' })), 'retryable', '999');
    expect(error.retryLimit).toBe(3);
  });

  it('anything else (unknown code 777, or a non-numeric code) → same as 999', () => {
    expect(failed(submitOutcome(answer({ code: 777 })), 'retryable', '777').retryLimit).toBe(3);
    expect(failed(submitOutcome(answer({ code: 'E1' })), 'retryable', 'E1').retryLimit).toBe(3);
  });

  it('keeps the raw answer on the error, non-enumerable', () => {
    const raw = answer({ code: 202, msg: 'blocked' });
    const error = failed(submitOutcome(raw), 'terminal', '202');
    expect(error.response).toBe(raw);
    expect(Object.keys(error)).not.toContain('response');
    expect(JSON.stringify(error)).not.toContain('blocked"}');
  });
});

describe('drawing answers: malformed answers → retryable MALFORMED_RESPONSE', () => {
  it.each([
    ['unparseable JSON', '{"code":200,"data":'],
    ['HTML instead of JSON', '<html>bad gateway</html>'],
    ['a JSON array', '[1,2]'],
    ['no business code', '{"msg":"ok"}'],
    ['code 200 without data.taskId', '{"code":200,"data":{}}'],
  ])('submit: %s', (_why, text) => {
    const error = failed(submitOutcome(answer(text)), 'retryable', 'MALFORMED_RESPONSE');
    expect(error.retryLimit).toBeUndefined();
  });

  it.each([
    ['code 200 without data.status', '{"code":200,"data":{}}'],
    ['status 1 without image URLs', '{"code":200,"data":{"status":1,"imgUrls":[]}}'],
  ])('query: %s', (_why, text) => {
    failed(queryOutcome(answer(text)), 'retryable', 'MALFORMED_RESPONSE');
  });
});
