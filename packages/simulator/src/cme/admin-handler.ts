import type { IncomingMessage, ServerResponse } from 'node:http';
import { CmeFailure } from './cme-failure.ts';
import type { CmeFaultAnswer, CmeScriptMatch } from './cme-fault-answer.ts';
import type { CmeFaultSettingsPatch } from './cme-fault-settings.ts';
import type { CmeLoginShape, CmeOwner, CmeSeedData } from './cme-types.ts';
import { readBody, sendJson } from './http-io.ts';

export const ADMIN_PATH_PREFIX = '/__admin/';

/**
 * What the admin endpoints drive: the simulator's own control methods. What they return goes
 * out as JSON as it is, so its type does not matter here.
 */
export interface CmeAdminOperations {
  counters(): unknown;
  resetCounters(): void;
  faults(): unknown;
  setFaults(patch: CmeFaultSettingsPatch): void;
  resetFaults(): void;
  script(match: CmeScriptMatch, answers: CmeFaultAnswer[]): void;
  seed(data: CmeSeedData): unknown;
  revoke(userId?: string): number;
  expireAll(): number;
  reset(): void;
  setLoginShape(shape: CmeLoginShape): void;
  materials(owner?: CmeOwner): unknown;
  classes(owner?: CmeOwner): unknown;
}

type Route = (ops: CmeAdminOperations, body: Record<string, unknown>, url: URL) => unknown;

/** A route that changes something, then answers with what `answer` reads. */
function act(change: Route, answer: Route): Route {
  return (ops, body, url) => {
    change(ops, body, url);
    return answer(ops, body, url);
  };
}

const counters: Route = (ops) => ops.counters();
const faults: Route = (ops) => ops.faults();

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['GET counters', counters],
  ['POST counters/reset', act((ops) => ops.resetCounters(), counters)],
  ['GET faults', faults],
  ['POST faults', act((ops, body) => ops.setFaults(body as CmeFaultSettingsPatch), faults)],
  ['DELETE faults', act((ops) => ops.resetFaults(), faults)],
  [
    'POST script',
    act(
      (ops, body) => ops.script(body.match as CmeScriptMatch, body.answers as CmeFaultAnswer[]),
      faults,
    ),
  ],
  ['POST seed', (ops, body) => ops.seed(body as CmeSeedData)],
  [
    'POST revoke',
    (ops, body) => ({
      revoked: ops.revoke(typeof body.userId === 'string' ? body.userId : undefined),
    }),
  ],
  ['POST expire', (ops) => ({ expired: ops.expireAll() })],
  ['POST reset', act((ops) => ops.reset(), counters)],
  [
    'POST login-shape',
    act(
      (ops, body) => ops.setLoginShape(body.shape as CmeLoginShape),
      (_ops, body) => ({ shape: body.shape }),
    ),
  ],
  ['GET materials', (ops, _body, url) => ops.materials(ownerFromQuery(url))],
  ['GET classes', (ops, _body, url) => ops.classes(ownerFromQuery(url))],
]);

/**
 * `/__admin/*`: JSON control endpoints for tests, benchmarks and operators of `pnpm start`.
 * Bad input answers 400 `{error: {code, message}}`.
 */
export async function handleAdmin(
  ops: CmeAdminOperations,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = ROUTES.get(`${req.method} ${url.pathname.slice(ADMIN_PATH_PREFIX.length)}`);
  if (!route) {
    return sendJson(res, 404, { error: { code: 'not_found', message: 'no such admin route' } });
  }
  try {
    const raw = await readBody(req, 1024 * 1024);
    const body: unknown = raw.trim() === '' ? {} : JSON.parse(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TypeError('body must be a JSON object');
    }
    sendJson(res, 200, route(ops, body as Record<string, unknown>, url) ?? {});
  } catch (error) {
    const known =
      error instanceof TypeError ||
      error instanceof RangeError ||
      error instanceof SyntaxError ||
      error instanceof CmeFailure;
    if (!known) throw error;
    const code = error instanceof CmeFailure ? error.code : 'bad_request';
    const message = error instanceof CmeFailure ? error.englishMessage : error.message;
    sendJson(res, 400, { error: { code, message } });
  }
}

function ownerFromQuery(url: URL): CmeOwner | undefined {
  const type = url.searchParams.get('ownerType');
  const id = url.searchParams.get('ownerId');
  if (!type || !id) return undefined;
  if (type !== 'PERSON' && type !== 'TEAM') throw new TypeError('ownerType is PERSON or TEAM');
  return { Type: type, Id: id };
}
