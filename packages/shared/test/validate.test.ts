import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../src/index.ts';
import { validate } from '../src/schemas/validate.ts';

const strict = z.strictObject({ name: z.string() });

function issuesOf(input: unknown) {
  try {
    validate(strict, input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('validate accepted the input');
}

describe('validate names every field it refuses', () => {
  it.each([
    ['', '""'],
    [' ', '" "'],
    ['\t', '"\\t"'],
    ['a\nb', '"a\\nb"'],
  ])('an unknown key %j is named %s (never blank)', (key, named) => {
    const issue = issuesOf({ name: 'x', [key]: 1 }).find((i) => i.rule === 'unknownField');
    expect(issue?.field).toBe(named);
    expect(issue?.message).toBe(`${named} is not a known field`);
  });

  it('a readable key is named as it is', () => {
    expect(issuesOf({ name: 'x', colour: 1 })[0]).toMatchObject({
      field: 'colour',
      rule: 'unknownField',
    });
  });
});
