import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PATH_PREFIX, type CmeAdminOperations, handleAdmin } from './admin-handler.ts';
import { API_PATH_PREFIX, handleApiCall } from './api-handler.ts';
import type { CmeContext } from './cme-context.ts';
import { CmeCounters, type CmeCountersSnapshot } from './cme-counters.ts';
import type { CmeFaultAnswer, CmeScriptMatch } from './cme-fault-answer.ts';
import type { CmeFaultSettings, CmeFaultSettingsPatch } from './cme-fault-settings.ts';
import {
  type CmeSimulatorOptions,
  type ResolvedCmeSimulatorOptions,
  resolveCmeSimulatorOptions,
} from './cme-simulator-options.ts';
import type {
  CmeClassInfo,
  CmeLoginShape,
  CmeMaterialInfo,
  CmeOwner,
  CmeSeedData,
  CmeSeedResult,
} from './cme-types.ts';
import { FaultInjector } from './fault-injector.ts';
import { sendJson } from './http-io.ts';
import { handleLogin } from './login-handler.ts';
import { MaterialStore } from './material-store.ts';
import { TicketRegistry } from './ticket-registry.ts';

/**
 * A faithful in-process fake of the Tencent CME ticket exchange and client API
 * (specs/cme-api.md), with fault injection, scripted answers and counters. One HTTP server
 * serves the login (`loginUrl`), the API (`apiBaseUrl`) and `/__admin/*`.
 */
export class CmeSimulator implements CmeAdminOperations {
  readonly #options: ResolvedCmeSimulatorOptions;
  readonly #context: CmeContext;
  readonly #abort = new AbortController();
  readonly #server: Server;
  #closing: Promise<void> | undefined;
  #url = '';

  private constructor(options: ResolvedCmeSimulatorOptions) {
    this.#options = options;
    const store = new MaterialStore(options.clock);
    this.#context = {
      options,
      store,
      tickets: new TicketRegistry(options.ticketLifetimeMs, options.clock),
      counters: new CmeCounters(),
      signal: this.#abort.signal,
      faults: new FaultInjector(options.faults, options.seedRandom),
      loginShape: options.loginShape,
    };
    store.seed(options.seed);
    this.#server = createServer((req, res) => this.#onRequest(req, res));
  }

  static async start(options: CmeSimulatorOptions): Promise<CmeSimulator> {
    const simulator = new CmeSimulator(resolveCmeSimulatorOptions(options));
    const server = simulator.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(simulator.#options.port, simulator.#options.host, () => {
        server.off('error', reject);
        simulator.#url = simulator.#baseUrl();
        resolve();
      });
    });
    return simulator;
  }

  /** `http://127.0.0.1:<port>`: serves the login, the API and `/__admin/*`. */
  get url(): string {
    return this.#url;
  }

  #baseUrl(): string {
    const { port } = this.#server.address() as AddressInfo;
    const host = this.#options.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  }

  /** Where to send `?signature=…` (the stand-in for `https://open.cme.qcloud.com`). */
  get loginUrl(): string {
    const path = this.#options.loginPath;
    return path === '/' ? this.url : `${this.url}${path}`;
  }

  /** The stand-in for `https://web-paas-api.cme.qcloud.com`; calls go to `/PaaS/<Class>/<Action>`. */
  get apiBaseUrl(): string {
    return this.url;
  }

  get loginShape(): CmeLoginShape {
    return this.#context.loginShape;
  }

  setLoginShape(shape: CmeLoginShape): void {
    if (shape !== 'new' && shape !== 'old') throw new TypeError("login shape is 'new' or 'old'");
    this.#context.loginShape = shape;
  }

  /** Current random-fault settings and how many scripted answers are left. */
  faults(): CmeFaultSettings & { scriptedRemaining: number } {
    const faults = this.#context.faults;
    return { ...faults.settings(), scriptedRemaining: faults.scriptedRemaining() };
  }

  /** Merges into the current fault settings (codeRates merge per code; 0 removes one). */
  setFaults(patch: CmeFaultSettingsPatch): void {
    this.#context.faults.set(patch);
  }

  /** Stops all fault injection: no random faults, forced auth failures or scripts. */
  resetFaults(): void {
    this.#context.faults.clear();
  }

  /** Queues answers for matching calls, served one per call in order, before random faults. */
  script(match: CmeScriptMatch, answers: CmeFaultAnswer[]): void {
    this.#context.faults.script(match, answers);
  }

  seed(data: CmeSeedData): CmeSeedResult {
    return this.#context.store.seed(data);
  }

  /** Ends the tickets of one user, or all (a server-side logout); returns how many were live. */
  revoke(userId?: string): number {
    return this.#context.tickets.revoke(userId);
  }

  /** Every ticket expires now; returns how many were live. */
  expireAll(): number {
    return this.#context.tickets.revoke();
  }

  /** A ticket for `userId` without a login (not counted as one), for tests that skip login. */
  issueTicket(userId: string): string {
    return this.#context.tickets.mint(userId, this.#options.platform).ticket;
  }

  liveTickets(userId?: string): number {
    return this.#context.tickets.count(userId);
  }

  counters(): CmeCountersSnapshot {
    return this.#context.counters.snapshot();
  }

  resetCounters(): void {
    this.#context.counters.reset();
  }

  materials(owner?: CmeOwner): CmeMaterialInfo[] {
    const store = this.#context.store;
    return store.materials(owner).map((m) => store.materialInfo(m));
  }

  classes(owner?: CmeOwner): CmeClassInfo[] {
    const store = this.#context.store;
    return store.classes(owner).map((c) => store.classInfo(c));
  }

  /** Back to the state right after `start()`: seed, faults and login shape from the options; no tickets; zero counters. */
  reset(): void {
    const options = this.#options;
    this.#context.store.clear();
    this.#context.store.seed(options.seed);
    this.#context.tickets.revoke();
    this.#context.faults = new FaultInjector(options.faults, options.seedRandom);
    this.#context.counters.reset();
    this.#context.loginShape = options.loginShape;
  }

  /** Stops listening, ends keep-alive and in-flight connections and pending delays. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#abort.abort();
      this.#closing = new Promise<void>((resolve, reject) => {
        this.#server.close((error) => (error ? reject(error) : resolve()));
      });
      this.#server.closeAllConnections();
    }
    return this.#closing;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#route(req, res).catch((error: unknown) => {
      if (this.#abort.signal.aborted) {
        req.socket.destroy();
        return;
      }
      const detail = error instanceof Error ? error.message : String(error);
      sendJson(res, 500, { Code: 'InternalError', Message: '模拟器错误', EnglishMessage: detail });
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cme-simulator');
    if (url.pathname.startsWith(ADMIN_PATH_PREFIX)) return handleAdmin(this, req, res, url);
    if (url.pathname.startsWith(API_PATH_PREFIX)) {
      if (req.method === 'POST') return handleApiCall(this.#context, req, res, url);
    } else if (url.pathname === this.#options.loginPath) {
      if (req.method === 'GET') return handleLogin(this.#context, req, res, url);
    } else {
      return sendJson(res, 404, { error: { code: 'not_found', message: 'no such path' } });
    }
    res.setHeader('allow', url.pathname.startsWith(API_PATH_PREFIX) ? 'POST' : 'GET');
    sendJson(res, 405, {
      error: { code: 'method_not_allowed', message: `${req.method} not allowed` },
    });
  }
}
