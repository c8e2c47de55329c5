/**
 * `@atelier/producer/http`: the HTTP API as a Fastify instance (`/v1`, health, readiness,
 * metrics, the OpenAPI document; the `/admin` dashboard is mounted unless `admin: false`).
 */
export { ApiKeyAuth } from './api-key-auth.ts';
export { type ApiOptions, apiOptionsFromConfig, buildApi } from './build-api.ts';
export {
  type ApiErrorCode,
  ERROR_STATUS,
  type ErrorBody,
  errorResponse,
} from './error-response.ts';
