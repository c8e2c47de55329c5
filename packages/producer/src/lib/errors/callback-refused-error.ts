import { AtelierError } from '@atelier/shared';

/**
 * A callback URL the deployment will not call: `CALLBACKS_DISABLED` (no signing secret is
 * configured) or `CALLBACK_URL_REFUSED` (private, loopback, metadata or unresolvable host).
 */
export class CallbackRefusedError extends AtelierError {
  override name = 'CallbackRefusedError';
  readonly field: string;

  constructor(code: 'CALLBACKS_DISABLED' | 'CALLBACK_URL_REFUSED', field: string, reason: string) {
    super(`${field}: ${reason}`, { code, details: { field } });
    this.field = field;
  }
}
