import type { DrawingAuthMode, DrawingConfig, Logger } from '@atelier/shared';
import { ConfigError } from '@atelier/shared';
import { signApigRequest } from './apig-signer.ts';

/** The request as it will be sent: final URL, headers and the exact body bytes. */
export interface DrawingAuthRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface DrawingAuthHeaders {
  /** Headers to add to the request (they carry credentials: never log them). */
  headers: Record<string, string>;
  /** APIG mode only: what was signed, non-secret, to compare with the gateway's echo. */
  canonicalRequest?: string;
}

/** Adds the credentials of one authentication mode to a drawing request. */
export interface DrawingAuth {
  readonly mode: DrawingAuthMode;
  authenticate(request: DrawingAuthRequest): DrawingAuthHeaders;
}

export type DrawingAuthConfig = Pick<
  DrawingConfig,
  'authMode' | 'appKey' | 'appSecret' | 'appCode' | 'baseUrl'
>;

/**
 * Builds the authentication of the configured mode. Secrets stay `Secret`s until the moment a
 * request is signed. Throws `ConfigError` when the mode's credentials are missing. `now` is the
 * signing clock (tests).
 */
export function createDrawingAuth(
  config: DrawingAuthConfig,
  logger: Logger,
  now: () => Date = () => new Date(),
): DrawingAuth {
  switch (config.authMode) {
    case 'apig': {
      const { appKey, appSecret } = config;
      if (appKey === undefined)
        throw new ConfigError('DRAWING_APP_KEY', 'is required when DRAWING_AUTH_MODE=apig');
      if (appSecret === undefined) {
        throw new ConfigError('DRAWING_APP_SECRET', 'is required when DRAWING_AUTH_MODE=apig');
      }
      return {
        mode: 'apig',
        authenticate(request) {
          const signature = signApigRequest({
            ...request,
            appKey,
            appSecret: appSecret.reveal(),
            date: now(),
          });
          return {
            headers: { 'X-Sdk-Date': signature.sdkDate, Authorization: signature.authorization },
            canonicalRequest: signature.canonicalRequest,
          };
        },
      };
    }
    case 'huawei-appcode': {
      const appCode = requireAppCode(config);
      if (config.baseUrl?.startsWith('http:')) {
        logger.warn(
          { authMode: config.authMode, baseUrl: config.baseUrl },
          'DRAWING_AUTH_MODE=huawei-appcode over plain http: the AppCode travels unencrypted (the gateway only accepts it over HTTPS)',
        );
      }
      return {
        mode: 'huawei-appcode',
        authenticate: () => ({ headers: { 'X-Apig-AppCode': appCode.reveal() } }),
      };
    }
    case 'aliyun-appcode': {
      const appCode = requireAppCode(config);
      return {
        mode: 'aliyun-appcode',
        authenticate: () => ({ headers: { Authorization: `APPCODE ${appCode.reveal()}` } }),
      };
    }
    case 'none':
      return { mode: 'none', authenticate: () => ({ headers: {} }) };
  }
}

function requireAppCode(config: DrawingAuthConfig) {
  if (config.appCode === undefined) {
    throw new ConfigError(
      'DRAWING_APP_CODE',
      `is required when DRAWING_AUTH_MODE=${config.authMode}`,
    );
  }
  return config.appCode;
}
