import { type CallbackUrlCheck, checkCallbackUrl } from '@atelier/shared';
import { resolveHost } from '@atelier/store';
import { CallbackRefusedError } from './errors/callback-refused-error.ts';
import type { ProducerCallbackOptions } from './producer-options.ts';

/**
 * Decides at the door whether a callback URL is acceptable: callbacks must be enabled (a
 * signing secret exists), and unless private URLs are allowed every address the host
 * resolves to must be public (the deliverer checks again at delivery time).
 */
export class CallbackPolicy {
  readonly #options: ProducerCallbackOptions;

  constructor(options: ProducerCallbackOptions) {
    this.#options = options;
  }

  /** Throws `CallbackRefusedError` unless the URL may be called back. */
  async check(url: string, field = 'callbackUrl'): Promise<void> {
    await this.checker()(url, field);
  }

  /**
   * A checker that resolves each scheme+host once (for the many items of one batch).
   * Refusals are cached as well, so a batch naming one bad host costs one lookup.
   */
  checker(): (url: string, field: string) => Promise<void> {
    const seen = new Map<string, Promise<CallbackUrlCheck>>();
    return async (url, field) => {
      if (!this.#options.enabled) {
        throw new CallbackRefusedError(
          'CALLBACKS_DISABLED',
          field,
          'callbacks are disabled on this deployment (no ATELIER_CALLBACK_SECRET)',
        );
      }
      const key = originKey(url);
      let pending = seen.get(key);
      if (!pending) {
        pending = checkCallbackUrl(url, {
          allowPrivate: this.#options.allowPrivateUrls,
          resolve: this.#options.resolve ?? resolveHost,
        });
        seen.set(key, pending);
      }
      const result = await pending;
      if (!result.ok) {
        throw new CallbackRefusedError('CALLBACK_URL_REFUSED', field, `refused: ${result.reason}`);
      }
    };
  }
}

function originKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}`;
  } catch {
    return url;
  }
}
