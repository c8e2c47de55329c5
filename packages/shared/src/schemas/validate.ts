import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/validation-error.ts';

/**
 * Parses `input` with `schema`; on failure throws a `ValidationError` whose issues name the
 * field (dotted path, prefixed with `pathPrefix`) and the rule, in plain words.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  pathPrefix = '',
): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationError(toIssues(result.error.issues, pathPrefix));
}

export function toIssues(
  zodIssues: readonly z.core.$ZodIssue[],
  pathPrefix = '',
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of zodIssues) {
    const field = joinPath(pathPrefix, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const name = joinPath(field, [key]);
        issues.push({ field: name, rule: 'unknownField', message: `${name} is not a known field` });
      }
      continue;
    }
    issues.push(describe(field || '(body)', issue));
  }
  return issues;
}

function describe(field: string, issue: z.core.$ZodIssue): ValidationIssue {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) {
        return { field, rule: 'required', message: `${field} is required` };
      }
      if (issue.expected === 'int') {
        return { field, rule: 'integer', message: `${field} must be an integer` };
      }
      return { field, rule: 'type', message: `${field} must be ${article(issue.expected)}` };
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') {
        return { field, rule: 'minLength', message: `${field} must be at least ${min} characters` };
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return { field, rule: 'minItems', message: `${field} must have at least ${min} items` };
      }
      const bound = issue.inclusive === false ? 'greater than' : 'at least';
      return { field, rule: 'min', message: `${field} must be ${bound} ${min}` };
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') {
        return { field, rule: 'maxLength', message: `${field} must be at most ${max} characters` };
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return { field, rule: 'maxItems', message: `${field} must have at most ${max} items` };
      }
      const bound = issue.inclusive === false ? 'less than' : 'at most';
      return { field, rule: 'max', message: `${field} must be ${bound} ${max}` };
    }
    case 'invalid_value': {
      const values = issue.values.map(String).join(', ');
      return { field, rule: 'oneOf', message: `${field} must be one of: ${values}` };
    }
    case 'invalid_format':
      return { field, rule: 'format', message: `${field} must be a valid ${issue.format}` };
    case 'custom': {
      const rule = typeof issue.params?.rule === 'string' ? issue.params.rule : 'custom';
      return { field, rule, message: `${field} ${issue.message}` };
    }
    default:
      return { field, rule: issue.code, message: `${field}: ${issue.message}` };
  }
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  // A key that would not show as a name (empty, blank, control characters) is named in quotes,
  // JSON-escaped: `""`, `" "`, `"\n"` — left as it is, the field would read as nothing.
  const parts = path.map((p) => (unreadable(String(p)) ? JSON.stringify(String(p)) : String(p)));
  return [prefix, ...parts].filter((p) => p !== '').join('.');
}

function unreadable(key: string): boolean {
  if (key.trim() === '') return true;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function article(expected: string): string {
  if (expected === 'array' || expected === 'object' || expected === 'integer')
    return `an ${expected}`;
  return `a ${expected}`;
}
