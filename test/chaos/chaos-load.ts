import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosApiClient } from './chaos-api-client.ts';
import type { AcceptedJob } from './chaos-verdict.ts';

const STYLES = ['水彩画', '油画', '赛博朋克', '古风', '像素风格', '卡通画'];
/**
 * The simulator is told to refuse texts with this word (code 202, for good): one drawing in
 * twenty carries it, so dead letters (batch items too) are filed while workers get killed.
 */
export const BLOCKED_WORD = '违禁';

/** The words of the `index`th drawing text: every twentieth is refused by the provider. */
function subject(index: number, words: string): string {
  return index % 20 === 19 ? `${words} ${BLOCKED_WORD}` : words;
}
/** Answers worth sending the same request again for (with the same idempotency key). */
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

export interface ChaosLoadOptions {
  api: ChaosApiClient;
  runId: string;
  callbackUrl: string;
  random: () => number;
  /** CME users and their seeded material ids. */
  materials: ReadonlyMap<string, string[]>;
}

/**
 * Sends the run's work through the HTTP API, every request with an idempotency key and the
 * receiver's callback URL, each one again (same key) until it is accepted: `503` while Redis
 * is down, network errors, `429`. Keeps what was accepted, what never was, and how fast the
 * `503`s came.
 */
export class ChaosLoad {
  readonly accepted: AcceptedJob[] = [];
  /** Keys never accepted before their deadline, or refused (a harness bug). */
  readonly notAccepted: string[] = [];
  requested = 0;
  /** How long each `503` (Redis unavailable) took to come back, in ms. */
  readonly unavailableMs: number[] = [];
  readonly #o: ChaosLoadOptions;
  #sequence = 0;
  #drawings = 0;

  constructor(options: ChaosLoadOptions) {
    this.#o = options;
  }

  /** Every drawing text of this run starts with it (the provider's tasks are filtered by it). */
  get textPrefix(): string {
    return `chaos ${this.#o.runId} `;
  }

  async drawing(label: string, giveUpAt: number): Promise<void> {
    const key = `${this.#o.runId}-${label}`;
    const text = `${this.textPrefix}${label} ${subject(this.#drawings++, '一只猫在雨中')}`;
    const body = {
      text,
      style: STYLES[this.#sequence++ % STYLES.length],
      resolution: '1024*1024',
      num: 1 + Math.floor(this.#o.random() * 2),
      idempotencyKey: key,
      callbackUrl: this.#o.callbackUrl,
    };
    const answer = await this.#send('/v1/drawings', body, key, giveUpAt);
    if (answer) this.accepted.push({ id: answer.id, kind: 'drawing', text, callback: true });
  }

  async batch(label: string, items: number, giveUpAt: number): Promise<void> {
    const key = `${this.#o.runId}-${label}`;
    const texts = Array.from(
      { length: items },
      (_, i) => `${this.textPrefix}${label}.${i} ${subject(i, '山水')}`,
    );
    const body = {
      idempotencyKey: key,
      callbackUrl: this.#o.callbackUrl,
      items: texts.map((text, i) => ({
        text,
        style: STYLES[i % STYLES.length],
        resolution: '1024*1024',
        callbackUrl: this.#o.callbackUrl,
      })),
    };
    this.requested += items - 1;
    const answer = await this.#send('/v1/batches', body, key, giveUpAt);
    if (!answer) return;
    texts.forEach((text, index) => {
      this.accepted.push({
        id: `dr_${answer.id}~${index}`,
        kind: 'drawing',
        text,
        batchId: answer.id,
        batchIndex: index,
        callback: true,
      });
    });
  }

  /**
   * A CME operation; one in ten asks to modify a material that does not exist, which the
   * provider refuses for good (those end dead on purpose).
   */
  async cme(label: string, giveUpAt: number): Promise<string | undefined> {
    const key = `${this.#o.runId}-${label}`;
    const users = [...this.#o.materials.keys()];
    const userId = users[Math.floor(this.#o.random() * users.length)] as string;
    const materials = this.#o.materials.get(userId) ?? [];
    const owner = { Type: 'PERSON', Id: userId };
    const n = this.#sequence++;
    const operations: Array<[string, Record<string, unknown>]> = [
      ['Material/DescribeMaterials', { MaterialIds: materials }],
      ['Material/DescribeMaterials', { MaterialIds: materials.slice(0, 1) }],
      ['Material/DescribeMaterials', { MaterialIds: materials.slice(1) }],
      ['Material/ModifyMaterial', { MaterialId: materials[n % materials.length], Name: `n-${n}` }],
      ['Material/ModifyMaterial', { MaterialId: materials[0], Tags: [`t${n % 7}`] }],
      ['Material/ListMedia', { ClassId: 0, Owner: owner }],
      ['Material/DescribeClass', { Owner: owner }],
      ['Material/SearchMaterial', { SearchScopes: [{ Owner: owner }], Text: 'material' }],
      ['Material/DescribeMaterials', { MaterialIds: materials }],
      ['Material/ModifyMaterial', { MaterialId: `missing-${n}`, Name: 'x' }],
    ];
    const [action, params] = operations[n % operations.length] as [string, object];
    const body = { userId, action, params, idempotencyKey: key, callbackUrl: this.#o.callbackUrl };
    const answer = await this.#send('/v1/cme/operations', body, key, giveUpAt);
    if (!answer) return undefined;
    this.accepted.push({ id: answer.id, kind: 'cme', callback: true });
    return answer.id;
  }

  async #send(
    path: string,
    body: unknown,
    key: string,
    giveUpAt: number,
  ): Promise<{ id: string } | undefined> {
    this.requested++;
    for (;;) {
      let status = 0;
      try {
        const answer = await this.#o.api.request('POST', path, body);
        status = answer.status;
        if (status === 202) return answer.body as { id: string };
        if (status === 503) this.unavailableMs.push(answer.ms);
        if (!RETRYABLE.has(status)) {
          process.stderr.write(`chaos: ${path} refused ${key}: ${JSON.stringify(answer.body)}\n`);
          this.notAccepted.push(key);
          return undefined;
        }
      } catch {
        // Network error or timeout: the same key again is safe.
      }
      if (Date.now() > giveUpAt) {
        this.notAccepted.push(key);
        return undefined;
      }
      await sleep(200 + this.#o.random() * 300);
    }
  }
}
