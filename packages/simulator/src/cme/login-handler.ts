import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CmeContext } from './cme-context.ts';
import { CmeFailure } from './cme-failure.ts';
import { sendJson } from './http-io.ts';
import { loginFailureBody, loginSuccessBody } from './login-response.ts';
import { type VerifiedLogin, verifyLoginSignature } from './login-verifier.ts';
import { serveFault } from './serve-fault.ts';

/** `GET <loginPath>?signature=…`: verifies the signature and mints a ticket. */
export async function handleLogin(
  context: CmeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const { counters, options } = context;
  const shape = context.loginShape;
  const requestId = randomUUID();
  counters.loginAttempt();
  const sendFailure = (failure: CmeFailure): void => {
    counters.loginFailed();
    sendJson(res, options.loginFailureHttpStatus, loginFailureBody(shape, failure, requestId));
  };
  let verified: VerifiedLogin;
  try {
    // URLSearchParams turns a raw `+` into a space: a signature sent without percent-encoding fails.
    const signature = url.searchParams.get('signature');
    if (!signature) {
      throw new CmeFailure(
        'MissingParameter',
        '缺少参数 signature',
        'missing parameter: signature',
      );
    }
    verified = verifyLoginSignature(signature, options, options.clock());
  } catch (error) {
    if (error instanceof CmeFailure) return sendFailure(error);
    throw error;
  }
  const grant = () => {
    counters.loginSucceeded(verified.userId);
    return context.tickets.mint(verified.userId, verified.platform);
  };
  const fault = context.faults.plan({ action: 'Login', userId: verified.userId, materialIds: [] });
  if (fault && (await serveFault(context, req, res, fault, { sendFailure, apply: grant }))) return;
  const record = grant();
  const body = loginSuccessBody(
    shape,
    {
      appId: options.appId,
      platform: record.platform,
      userId: record.userId,
      ticket: record.ticket,
      tfUid: record.tfUid,
    },
    requestId,
  );
  sendJson(res, 200, body);
}
