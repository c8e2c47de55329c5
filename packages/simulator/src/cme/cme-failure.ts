import { cmeErrorText } from './cme-error-text.ts';

/**
 * A CME failure answer raised inside the simulator (bad parameter, missing material, …).
 * The request handler turns it into `{Code, Message, EnglishMessage}`.
 */
export class CmeFailure extends Error {
  readonly code: string;
  readonly englishMessage: string;

  constructor(code: string, message?: string, englishMessage?: string) {
    const text = cmeErrorText(code);
    super(message ?? text.message);
    this.name = 'CmeFailure';
    this.code = code;
    this.englishMessage = englishMessage ?? text.englishMessage;
  }
}
