import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActionCaller } from './action-context.ts';
import type { CmeContext } from './cme-context.ts';
import { CmeFailure } from './cme-failure.ts';
import { readBody, sendJson } from './http-io.ts';
import { materialActionTable } from './material-action-table.ts';
import { RequestParams } from './request-params.ts';
import { serveFault } from './serve-fault.ts';

export const API_PATH_PREFIX = '/PaaS/';

const SUCCESS = { Code: 'Success', Message: '成功', EnglishMessage: 'success' } as const;

/** `POST /PaaS/<ActionClass>/<ActionName>?auth=<ticket>` with a JSON body. */
export async function handleApiCall(
  context: CmeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const action = url.pathname.slice(API_PATH_PREFIX.length);
  context.counters.apiCall(action);
  const sendFailure = (failure: CmeFailure): void => sendApiFailure(context, res, failure);
  try {
    const raw = await readBody(req, context.options.maxBodyBytes);
    const forced = context.faults.takeForcedAuthFailure();
    if (forced) {
      context.counters.fault(forced);
      return sendFailure(new CmeFailure(forced));
    }
    const caller = authenticate(context, url);
    context.counters.apiCallBy(caller.userId);
    const body = parseBody(raw);
    const run = () => {
      const handler = materialActionTable.get(action);
      if (!handler) throw new CmeFailure('InvalidAction');
      if (body instanceof CmeFailure) throw body;
      return handler({ store: context.store, caller, params: new RequestParams(body) });
    };
    const materialIds = body instanceof CmeFailure ? [] : materialIdsOf(body);
    const fault = context.faults.plan({ action, userId: caller.userId, materialIds });
    const apply = () => {
      try {
        run();
      } catch (error) {
        if (!(error instanceof CmeFailure)) throw error;
      }
    };
    if (fault && (await serveFault(context, req, res, fault, { sendFailure, apply }))) return;
    const data = run();
    sendJson(res, 200, data === undefined ? SUCCESS : { ...SUCCESS, Data: data });
  } catch (error) {
    if (error instanceof CmeFailure) return sendFailure(error);
    throw error;
  }
}

function sendApiFailure(context: CmeContext, res: ServerResponse, failure: CmeFailure): void {
  const isAuth = failure.code.startsWith('AuthFailure');
  if (isAuth) context.counters.authFailure();
  sendJson(res, isAuth ? context.options.authFailureHttpStatus : 200, {
    Code: failure.code,
    Message: failure.message,
    EnglishMessage: failure.englishMessage,
  });
}

function authenticate(context: CmeContext, url: URL): ActionCaller {
  const ticket = url.searchParams.get('auth');
  if (!ticket) throw new CmeFailure('AuthFailure.InvalidAuthorization');
  const record = context.tickets.lookup(ticket);
  if (!record) throw new CmeFailure('AuthFailure.SessionInvalid');
  return { userId: record.userId, tfUid: record.tfUid, platform: record.platform };
}

function parseBody(raw: string): Record<string, unknown> | CmeFailure {
  if (raw.trim() === '') return {};
  try {
    const body: unknown = JSON.parse(raw);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      return body as Record<string, unknown>;
    }
  } catch {
    // falls through to the failure below
  }
  return new CmeFailure(
    'InvalidParameter',
    '请求体不是 JSON 对象',
    'request body must be a JSON object',
  );
}

function materialIdsOf(body: Record<string, unknown>): string[] {
  const ids = Array.isArray(body.MaterialIds) ? body.MaterialIds : [body.MaterialId];
  return ids.filter((id): id is string => typeof id === 'string');
}
