import { AtelierError } from './atelier-error.ts';

export interface ValidationIssue {
  /** Dotted path of the offending field (`params.MaterialId`, `items.3.text`). */
  field: string;
  /** Short name of the rule that failed (`required`, `maxLength`, `oneOf`, …). */
  rule: string;
  message: string;
}

/** Input that breaks a schema rule. Raised before anything is changed. */
export class ValidationError extends AtelierError {
  override name = 'ValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(first ? `${first.message}${more}` : 'invalid input', {
      code: 'VALIDATION_FAILED',
      details: { issues },
    });
    this.issues = issues;
  }
}
