/** One answer of the Atelier API. */
export interface ApiAnswer {
  status: number;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  ms: number;
}

/** A small HTTP client for the API under test: bearer key, JSON, a timeout per request. */
export class ChaosApiClient {
  readonly baseUrl: string;
  readonly #key: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, key: string, timeoutMs = 10_000) {
    this.baseUrl = baseUrl;
    this.#key = key;
    this.#timeoutMs = timeoutMs;
  }

  /** Rejects on network errors and timeouts (the caller decides whether to retry). */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiAnswer> {
    const started = performance.now();
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // NDJSON or an error page: keep the text.
    }
    return { status: response.status, body: parsed, ms: performance.now() - started };
  }
}
