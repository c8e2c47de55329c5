/**
 * A CME login ticket (the `Authorization` of the client API). `authorization` is a credential:
 * never log it, put it in job data, errors, metrics or the dashboard.
 */
export interface CmeTicket {
  authorization: string;
  /** The CME user id returned at login (a PERSON owner's `Id` may be this; unconfirmed). */
  tfUid?: string;
  appId?: number | string;
  platform: string;
  userId: string;
  /** Milliseconds since the epoch, on the clock of the process that logged in. */
  obtainedAt: number;
}
