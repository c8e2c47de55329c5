import {
  type DrawingLimits,
  drawingRequestSchema,
  type ParsedDrawingRequest,
  toIssues,
  type ValidationIssue,
} from '@atelier/shared';

/** How an item is named in messages besides its `items.<index>` path (e.g. `line 7`). */
export type ItemLabel = (index: number) => string | undefined;

/** A batch item after validation (an item may not carry its own idempotency key). */
export type BatchItem = Omit<ParsedDrawingRequest, 'idempotencyKey'>;

/**
 * Validates batch items one by one against the drawing request schema and collects the
 * issues (up to `maxIssues`, then only counts them). Issues name `items.<index>.<field>`;
 * with a label (`line 7`) the message starts with it. An item-level `idempotencyKey` is
 * refused: batch items get ids derived from the batch, so that every item can complete it.
 */
export class BatchItemParser {
  readonly issues: ValidationIssue[] = [];
  #invalid = 0;
  readonly #schema: ReturnType<typeof drawingRequestSchema>;
  readonly #label: ItemLabel;
  readonly #maxIssues: number;

  constructor(limits: DrawingLimits, label: ItemLabel = () => undefined, maxIssues = 100) {
    this.#schema = drawingRequestSchema(limits);
    this.#label = label;
    this.#maxIssues = maxIssues;
  }

  /** Items that failed validation so far. */
  get invalidCount(): number {
    return this.#invalid;
  }

  /** The parsed item, or undefined when it is invalid (its issues are recorded). */
  parse(item: unknown, index: number): BatchItem | undefined {
    const path = `items.${index}`;
    const issues: ValidationIssue[] = [];
    if (typeof item === 'object' && item !== null && 'idempotencyKey' in item) {
      issues.push({
        field: `${path}.idempotencyKey`,
        rule: 'notAllowed',
        message: 'idempotencyKey is not allowed on a batch item (give the batch one instead)',
      });
    }
    const result = this.#schema.safeParse(item, { reportInput: true });
    if (result.success && issues.length === 0) {
      const { idempotencyKey: _ignored, ...parsed } = result.data;
      return parsed;
    }
    if (!result.success) {
      const relative = toIssues(result.error.issues);
      toIssues(result.error.issues, path).forEach((issue, i) => {
        issues.push({ ...issue, message: relative[i]?.message ?? issue.message });
      });
    }
    this.#record(issues, index);
    return undefined;
  }

  #record(issues: ValidationIssue[], index: number): void {
    this.#invalid++;
    const label = this.#label(index) ?? `items.${index}`;
    for (const issue of issues) {
      if (this.issues.length >= this.#maxIssues) return;
      const message = issue.message.replace(/^\(body\)/, 'the item');
      this.issues.push({ ...issue, message: `${label}: ${message}` });
    }
  }
}
