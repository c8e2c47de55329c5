import { createHmac } from 'node:crypto';
import { CmeSimulator, type CmeSimulatorOptions } from '../src/index.ts';

export const SECRET_KEY = 'SecretKeyExample0123456789abcdef';
export const SECRET_ID = 'AKIDExample0123456789';
export const PLATFORM = '1000000009';

/** The login fields in the order the spec signs them. */
export interface LoginFields {
  secretId: string;
  currentTimeStamp: number;
  expireTime: number;
  random: number;
  platform: string;
  action: string;
  userId: string;
}

/** The spec's signing algorithm, written independently of the simulator. */
export function signLogin(fields: LoginFields, secretKey: string): string {
  const original = (Object.keys(fields) as (keyof LoginFields)[])
    .map((key) => `${key}=${encodeURIComponent(String(fields[key]))}`)
    .join('&');
  const mac = createHmac('sha1', secretKey).update(original, 'utf8').digest();
  return Buffer.concat([mac, Buffer.from(original, 'utf8')]).toString('base64');
}

export function loginFields(
  userId: string,
  overrides: Partial<LoginFields> = {},
  nowMs = Date.now(),
) {
  const now = Math.floor(nowMs / 1000);
  return {
    secretId: SECRET_ID,
    currentTimeStamp: now,
    expireTime: now + 300,
    random: 123_456_789,
    platform: PLATFORM,
    action: 'Login',
    userId,
    ...overrides,
  } satisfies LoginFields;
}

export function startCme(overrides: Partial<CmeSimulatorOptions> = {}): Promise<CmeSimulator> {
  return CmeSimulator.start({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    platform: PLATFORM,
    ...overrides,
  });
}

/** `GET <loginUrl>?signature=<percent-encoded>`; the answer body parsed as JSON. */
export async function loginWith(
  sim: CmeSimulator,
  signature: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sim.loginUrl}?signature=${encodeURIComponent(signature)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Logs `userId` in (either answer shape) and returns the ticket. */
export async function loginTicket(
  sim: CmeSimulator,
  userId: string,
  nowMs?: number,
): Promise<string> {
  const { body } = await loginWith(sim, signLogin(loginFields(userId, {}, nowMs), SECRET_KEY));
  const response = body.Response as { Authorization?: string } | undefined;
  const data = body.Data as { Authorization?: string } | undefined;
  const ticket = response?.Authorization ?? data?.Authorization;
  if (!ticket) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return ticket;
}

export interface ApiAnswer<Data> {
  Code: string;
  Message: string;
  EnglishMessage: string;
  Data?: Data;
}

export function apiUrl(sim: CmeSimulator, action: string, ticket: string): string {
  return `${sim.apiBaseUrl}/PaaS/Material/${action}?auth=${encodeURIComponent(ticket)}`;
}

export async function callRaw(
  sim: CmeSimulator,
  action: string,
  ticket: string,
  body: unknown = {},
  init: RequestInit = {},
): Promise<Response> {
  return fetch(apiUrl(sim, action, ticket), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/** `POST /PaaS/Material/<action>?auth=…` and the parsed JSON answer. */
export async function callApi<Data = Record<string, unknown>>(
  sim: CmeSimulator,
  action: string,
  ticket: string,
  body: unknown = {},
): Promise<ApiAnswer<Data>> {
  const res = await callRaw(sim, action, ticket, body);
  return (await res.json()) as ApiAnswer<Data>;
}

export async function admin(
  sim: CmeSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}/__admin/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A settable clock for the `clock` option. */
export function fakeClock(startMs = Date.UTC(2024, 0, 1)) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

/** Polls `check` until it is truthy; tests wait on conditions, never on fixed sleeps. */
export async function waitUntil(
  check: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
