/** The command line is wrong (exit code 2); the message says how. */
export class UsageError extends Error {
  override name = 'UsageError';
}
