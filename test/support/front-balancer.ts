import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RedisTestContext } from './redis-context.ts';

/** What the balancer answers instead of forwarding: a bare status page (3xx with a Location). */
export type BalancerAnswer = 404 | 301 | 302 | 307 | 503;

/**
 * A load balancer in front of a provider, as seen mid-deploy: answers from its script (bare
 * 404 pages, redirects) while it has any, forwards to `target` otherwise (or answers
 * `fallback` for every call when set). Counts what it answered itself.
 */
export interface FrontBalancer {
  url: string;
  /** Answers for the next calls, in order, before forwarding resumes. */
  script(answers: BalancerAnswer[]): void;
  /** Answer every call with this from now on (undefined: forward again). */
  fallback: BalancerAnswer | undefined;
  /** Calls the balancer answered itself, by status. */
  readonly answered: Map<number, number>;
  /** When it first answered without forwarding. */
  firstAnsweredAt: number | undefined;
}

export async function startFrontBalancer(
  ctx: RedisTestContext,
  target: string,
): Promise<FrontBalancer> {
  const upstream = new URL(target);
  const scripted: BalancerAnswer[] = [];
  const state: FrontBalancer = {
    url: '',
    script: (answers) => scripted.push(...answers),
    fallback: undefined,
    answered: new Map(),
    firstAnsweredAt: undefined,
  };
  const server = createServer((req, res) => {
    const answer = scripted.shift() ?? state.fallback;
    if (answer !== undefined) {
      req.resume();
      state.firstAnsweredAt ??= Date.now();
      state.answered.set(answer, (state.answered.get(answer) ?? 0) + 1);
      const headers: Record<string, string> = { 'content-type': 'text/html' };
      if (answer >= 300 && answer < 400) headers.location = `${upstream.origin}/maintenance`;
      res.writeHead(answer, headers).end(`<html><body><h1>${answer}</h1>nginx</body></html>`);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answerFromUpstream) => {
        res.writeHead(answerFromUpstream.statusCode ?? 502, answerFromUpstream.headers);
        answerFromUpstream.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
