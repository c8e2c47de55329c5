import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CmeCountersSnapshot } from './cme-counters.ts';
import { CmeFailure } from './cme-failure.ts';
import type { CmeFaultAnswer, CmeScriptMatch } from './cme-fault-answer.ts';
import type { CmeFaultSettings, CmeFaultSettingsPatch } from './cme-fault-settings.ts';
import type {
  CmeClassInfo,
  CmeLoginShape,
  CmeMaterialInfo,
  CmeOwner,
  CmeSeedData,
  CmeSeedResult,
} from './cme-types.ts';
import { readBody, sendJson } from './http-io.ts';

export const ADMIN_PATH_PREFIX = '/__admin/';

/** What the admin endpoints drive: the simulator's own control methods. */
export interface CmeAdminOperations {
  counters(): CmeCountersSnapshot;
  resetCounters(): void;
  faults(): CmeFaultSettings & { scriptedRemaining: number };
  setFaults(patch: CmeFaultSettingsPatch): void;
  resetFaults(): void;
  script(match: CmeScriptMatch, answers: CmeFaultAnswer[]): void;
  seed(data: CmeSeedData): CmeSeedResult;
  revoke(userId?: string): number;
  expireAll(): number;
  reset(): void;
  setLoginShape(shape: CmeLoginShape): void;
  materials(owner?: CmeOwner): CmeMaterialInfo[];
  classes(owner?: CmeOwner): CmeClassInfo[];
}

type Route = (ops: CmeAdminOperations, body: Record<string, unknown>, url: URL) => unknown;

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['GET counters', (ops) => ops.counters()],
  [
    'POST counters/reset',
    (ops) => {
      ops.resetCounters();
      return ops.counters();
    },
  ],
  ['GET faults', (ops) => ops.faults()],
  [
    'POST faults',
    (ops, body) => {
      ops.setFaults(body as CmeFaultSettingsPatch);
      return ops.faults();
    },
  ],
  [
    'DELETE faults',
    (ops) => {
      ops.resetFaults();
      return ops.faults();
    },
  ],
  [
    'POST script',
    (ops, body) => {
      ops.script(body.match as CmeScriptMatch, body.answers as CmeFaultAnswer[]);
      return ops.faults();
    },
  ],
  ['POST seed', (ops, body) => ops.seed(body as CmeSeedData)],
  [
    'POST revoke',
    (ops, body) => ({
      revoked: ops.revoke(typeof body.userId === 'string' ? body.userId : undefined),
    }),
  ],
  ['POST expire', (ops) => ({ expired: ops.expireAll() })],
  [
    'POST reset',
    (ops) => {
      ops.reset();
      return ops.counters();
    },
  ],
  [
    'POST login-shape',
    (ops, body) => {
      ops.setLoginShape(body.shape as CmeLoginShape);
      return { shape: body.shape };
    },
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
