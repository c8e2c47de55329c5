/**
 * `@atelier/producer/admin`: the `/admin` dashboard as a Fastify plugin (`buildApi` mounts it
 * by default; register it yourself on an API built with `admin: false`).
 */
export type { AdminOptions } from './admin-options.ts';
export { adminPlugin } from './admin-plugin.ts';
export { maskSecrets } from './mask-secrets.ts';
