import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  DEFAULT_DRAWING_LIMITS,
  drawingRequestSchema,
  drawingTaskSchema,
  ValidationError,
  validate,
} from '../src/index.ts';

const good = { text: '一只猫 in the rain', style: '油画', resolution: '1024*1024' };

function issuesOf(input: unknown, schema: z.ZodType = drawingRequestSchema()) {
  try {
    validate(schema, input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected the input to be rejected');
}

describe('drawing request schema', () => {
  it('accepts a valid request and defaults num to 1', () => {
    expect(validate(drawingRequestSchema(), good)).toEqual({ ...good, num: 1 });
  });

  it('accepts every configured style and resolution, and num 1..6', () => {
    for (const style of DEFAULT_DRAWING_LIMITS.styles) {
      for (const resolution of DEFAULT_DRAWING_LIMITS.resolutions) {
        expect(validate(drawingRequestSchema(), { ...good, style, resolution }).style).toBe(style);
      }
    }
    for (const num of [1, 6])
      expect(validate(drawingRequestSchema(), { ...good, num }).num).toBe(num);
  });

  it('counts text length in characters: 100 Chinese characters pass, 101 fail', () => {
    expect(validate(drawingRequestSchema(), { ...good, text: '猫'.repeat(100) }).text).toHaveLength(
      100,
    );
    expect(issuesOf({ ...good, text: '猫'.repeat(101) })).toEqual([
      { field: 'text', rule: 'maxLength', message: 'text must be at most 100 characters' },
    ]);
    // 100 emoji are 200 UTF-16 units but 100 characters.
    expect(
      validate(drawingRequestSchema(), { ...good, text: '🐱'.repeat(100) }).text,
    ).toBeDefined();
  });

  it.each([
    ['empty text', { ...good, text: '' }, 'text', 'minLength'],
    ['blank text', { ...good, text: '   ' }, 'text', 'minLength'],
    ['missing text', { style: '油画', resolution: '1024*1024' }, 'text', 'required'],
    ['text not a string', { ...good, text: 42 }, 'text', 'type'],
    ['unknown style', { ...good, style: 'watercolour' }, 'style', 'oneOf'],
    ['unknown resolution', { ...good, resolution: '512*512' }, 'resolution', 'oneOf'],
    ['num 0', { ...good, num: 0 }, 'num', 'min'],
    ['num 7', { ...good, num: 7 }, 'num', 'max'],
    ['num 1.5', { ...good, num: 1.5 }, 'num', 'integer'],
    ['num as string', { ...good, num: '2' }, 'num', 'type'],
    ['priority 0', { ...good, priority: 0 }, 'priority', 'min'],
    ['priority 1001', { ...good, priority: 1001 }, 'priority', 'max'],
    ['callbackUrl ftp', { ...good, callbackUrl: 'ftp://example.com/x' }, 'callbackUrl', 'httpUrl'],
    ['callbackUrl relative', { ...good, callbackUrl: '/hook' }, 'callbackUrl', 'httpUrl'],
    ['idempotencyKey empty', { ...good, idempotencyKey: '' }, 'idempotencyKey', 'minLength'],
    [
      'idempotencyKey too long',
      { ...good, idempotencyKey: 'k'.repeat(201) },
      'idempotencyKey',
      'maxLength',
    ],
    ['unknown field', { ...good, resolutions: '1024*1024' }, 'resolutions', 'unknownField'],
  ])('rejects %s, naming the field and the rule', (_name, input, field, rule) => {
    const issues = issuesOf(input);
    expect(issues).toContainEqual(expect.objectContaining({ field, rule }));
    const issue = issues.find((i) => i.field === field);
    expect(issue?.message.startsWith(field)).toBe(true);
  });

  it('lists the allowed values in the error for an unknown style', () => {
    const [issue] = issuesOf({ ...good, style: 'nope' });
    expect(issue?.message).toContain('古风');
    expect(issue?.message).toContain('low poly');
  });

  it('reports every broken field at once', () => {
    const fields = issuesOf({ text: '', style: 'x', resolution: 'y', num: 9 }).map((i) => i.field);
    expect(fields.sort()).toEqual(['num', 'resolution', 'style', 'text']);
  });

  it('follows configured limits (text max 190, a custom style list, num max 4)', () => {
    const limits = { ...DEFAULT_DRAWING_LIMITS, textMaxLength: 190, styles: ['a', 'b'], numMax: 4 };
    const schema = drawingTaskSchema(limits);
    expect(validate(schema, { ...good, style: 'a', text: 'x'.repeat(190) }).text).toHaveLength(190);
    expect(issuesOf({ ...good, style: 'a', text: 'x'.repeat(191) }, schema)[0]?.rule).toBe(
      'maxLength',
    );
    expect(issuesOf({ ...good }, schema)[0]).toMatchObject({ field: 'style', rule: 'oneOf' });
    expect(issuesOf({ ...good, style: 'a', num: 5 }, schema)[0]).toMatchObject({
      field: 'num',
      rule: 'max',
    });
  });

  it('the task schema refuses enqueue options (batch lines carry only task fields)', () => {
    expect(issuesOf({ ...good, priority: 5 }, drawingTaskSchema())[0]).toMatchObject({
      field: 'priority',
      rule: 'unknownField',
    });
  });
});
