import type { ApigRequest } from './apig-canonical-request.ts';
import { verifyApigRequest } from './apig-verifier.ts';
import { aliyunGatewayReply, type DrawingReply, huaweiGatewayReply } from './drawing-reply.ts';

/** How callers must authenticate (the drawing spec's four modes). */
export type DrawingAuth =
  | { mode: 'none' }
  /** Huawei APIG app signing; `apps` maps AppKey → AppSecret. */
  | { mode: 'apig'; apps: Readonly<Record<string, string>> }
  /** Header `X-Apig-AppCode: <code>`. */
  | { mode: 'huawei-appcode'; appCodes: readonly string[] }
  /** Header `Authorization: APPCODE <code>`. */
  | { mode: 'aliyun-appcode'; appCodes: readonly string[] };

export interface AuthCheckContext {
  nowMs: number;
  maxClockSkewMs: number;
  requestId: string;
}

function header(request: ApigRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function apigRefusal(reason: string, requestId: string): DrawingReply {
  return huaweiGatewayReply(
    401,
    'APIG.0303',
    `Incorrect app authentication information: ${reason}`,
    requestId,
  );
}

/** `null` when the call may pass the gateway, else the gateway's 401. */
export function checkDrawingAuth(
  auth: DrawingAuth,
  request: ApigRequest,
  context: AuthCheckContext,
): DrawingReply | null {
  switch (auth.mode) {
    case 'none':
      return null;
    case 'apig': {
      const verdict = verifyApigRequest(request, {
        apps: auth.apps,
        nowMs: context.nowMs,
        maxClockSkewMs: context.maxClockSkewMs,
      });
      return verdict.ok ? null : apigRefusal(verdict.reason, context.requestId);
    }
    case 'huawei-appcode': {
      const code = header(request, 'x-apig-appcode');
      if (code !== undefined && auth.appCodes.includes(code.trim())) return null;
      const reason = code === undefined ? 'X-Apig-AppCode header is missing' : 'AppCode not found';
      return apigRefusal(reason, context.requestId);
    }
    case 'aliyun-appcode': {
      const match = /^APPCODE\s+(\S+)\s*$/.exec(header(request, 'authorization') ?? '');
      if (match?.[1] !== undefined && auth.appCodes.includes(match[1])) return null;
      return aliyunGatewayReply(401, 'Invalid AppCode', context.requestId);
    }
  }
}
