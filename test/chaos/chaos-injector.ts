import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosApiClient } from './chaos-api-client.ts';
import type { ChaosMoment } from './chaos-diagnosis.ts';
import type { ChaosLoad } from './chaos-load.ts';
import { type ChaosEvent, CUT_FILL_MS } from './chaos-plan.ts';
import type { ChaosProfile } from './chaos-profile.ts';
import { between } from './chaos-random.ts';
import type { ChaosStack } from './chaos-stack.ts';
import { REQUEST_TIMEOUT_MS } from './chaos-stack.ts';
import { CALM, type ProviderFaults, stormFaults } from './chaos-storms.ts';
import type { RedisRecovery } from './chaos-verdict.ts';

/** Provider delay while a cut starts (and during the shutdown wave): jobs stay active. */
export const HOLD_DELAY_MS = 2_000;

export interface ChaosInjectorOptions {
  stack: ChaosStack;
  api: ChaosApiClient;
  load: ChaosLoad;
  profile: ChaosProfile;
  random: () => number;
  say: (line: string) => void;
  /** How long a recovery probe may take before it counts as never recovered. */
  recoveryLimitMs: number;
}

/**
 * Carries out the chaos: the planned storms, proxy cuts and Redis restarts, and, on its own
 * clock, SIGKILL of a random worker (restarted at once on the same journal dir). Workers or
 * the API that die on their own are counted and restarted, as an orchestrator would.
 */
export class ChaosInjector {
  readonly kills = { workers: 0, redis: 0, cuts: 0, cutSeconds: 0, storms: 0 };
  readonly recoveries: RedisRecovery[] = [];
  /** Processes that exited without being told to, by name. */
  readonly crashes = new Map<string, number>();
  /** What was done when, for the diagnosis of paid-twice jobs. */
  readonly moments: ChaosMoment[] = [];
  readonly #o: ChaosInjectorOptions;
  readonly #busy = new Set<number>();
  #cutWorker: number | undefined;
  /** Kills wait while Redis restarts and its recovery is measured (a kill would stall the probe). */
  #killsHeld = false;
  #supervising = true;
  #probes = 0;

  constructor(options: ChaosInjectorOptions) {
    this.#o = options;
    const { stack } = options;
    stack.workers.forEach((worker, index) => {
      worker.onUnexpectedExit((exit) => {
        this.#crashed(worker.name, exit.code);
        // A second later, so a process that dies at start cannot spin.
        if (this.#supervising) setTimeout(() => void this.#restartWorker(index), 1000);
      });
    });
    stack.api.onUnexpectedExit((exit) => {
      this.#crashed('api', exit.code);
      if (this.#supervising) stack.startApi().catch((e) => this.#o.say(`api restart: ${e}`));
    });
  }

  /** Resolves once no worker restart is under way and every worker runs. */
  async workersUp(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const up = () => this.#busy.size === 0 && this.#o.stack.workers.every((w) => w.running);
    while (!up()) {
      if (Date.now() > until) throw new Error('the workers did not come back up');
      await sleep(100);
    }
  }

  /** Whether processes that die on their own are restarted (off while the harness stops them). */
  supervise(on: boolean): void {
    this.#supervising = on;
  }

  /** Runs every planned event at its time from `startedAt`; resolves when all have ended. */
  async runPlan(events: ChaosEvent[], startedAt: number): Promise<void> {
    const running: Promise<void>[] = [];
    for (const event of events) {
      await sleepUntil(startedAt + event.atMs);
      running.push(
        this.#run(event).catch((error) => this.#o.say(`chaos: ${event.kind} failed: ${error}`)),
      );
    }
    await Promise.all(running);
  }

  /** SIGKILLs a random worker every few seconds until `untilMs` (epoch ms). */
  async runKiller(untilMs: number): Promise<void> {
    for (;;) {
      const wait = between(this.#o.random, this.#o.profile.killEveryMs);
      if (Date.now() + wait >= untilMs) return;
      await sleep(wait);
      if (this.#killsHeld) continue;
      const candidates = this.#o.stack.workers
        .map((worker, index) => ({ worker, index }))
        .filter(({ worker, index }) => worker.running && index !== this.#cutWorker)
        .filter(({ index }) => !this.#busy.has(index));
      const pick = candidates[Math.floor(this.#o.random() * candidates.length)];
      if (!pick) continue;
      await this.#kill(pick.index);
    }
  }

  /** SIGKILL a worker and start it again (in the background) on the same journal dir. */
  async #kill(index: number): Promise<void> {
    const worker = this.#o.stack.workers[index];
    if (!worker?.running || this.#busy.has(index)) return;
    this.note('worker-kill');
    await worker.kill('SIGKILL');
    this.kills.workers++;
    void this.#restartWorker(index);
  }

  note(what: ChaosMoment['what']): void {
    this.moments.push({ at: Date.now(), what });
  }

  async setFaults(faults: ProviderFaults): Promise<void> {
    const { stack } = this.#o;
    await Promise.all([
      postJson(`${stack.drawingAdmin}faults`, faults.drawing),
      postJson(`${stack.cmeAdmin}faults`, faults.cme),
    ]);
  }

  async #run(event: ChaosEvent): Promise<void> {
    const say = this.#o.say;
    switch (event.kind) {
      case 'storm':
        say(`  storm ${event.storm} for ${(event.durationMs / 1000).toFixed(1)} s`);
        this.kills.storms++;
        await this.setFaults(stormFaults(event.storm, REQUEST_TIMEOUT_MS));
        if (event.storm === 'slow' || event.storm === 'mixed') this.note('late-answers');
        await sleep(event.durationMs);
        await this.setFaults(CALM);
        this.note('calm');
        return;
      case 'proxy-cut': {
        const proxy = this.#o.stack.proxies[event.worker];
        if (!proxy) return;
        const hold = (delayMs: number) =>
          this.setFaults({ drawing: { delayMs }, cme: { delayMs } });
        this.#cutWorker = event.worker;
        await this.workersUp();
        await hold(HOLD_DELAY_MS);
        await sleep(CUT_FILL_MS);
        say(
          `  cut (${event.mode}) worker-${event.worker + 1}'s Redis connections for ${event.durationMs / 1000} s`,
        );
        this.note('cut');
        if (event.mode === 'stall') proxy.stall();
        else proxy.reset();
        this.kills.cuts++;
        // The other worker, restarted now, checks for stalled jobs at once and again 30 s
        // later, when the cut worker's locks (at most 30 s left) have lapsed: it takes the
        // jobs over while the cut worker still runs them.
        const other = (event.worker + 1) % this.#o.stack.workers.length;
        await this.#kill(other);
        await sleep(HOLD_DELAY_MS);
        await hold(0);
        await sleep(event.durationMs - HOLD_DELAY_MS);
        proxy.restore();
        this.note('restore');
        this.#cutWorker = undefined;
        this.kills.cutSeconds += event.durationMs / 1000;
        say(`  restored worker-${event.worker + 1}'s connections`);
        return;
      }
      case 'redis-restart': {
        this.#killsHeld = true;
        try {
          await this.workersUp();
          say(`  SIGKILL redis (down ${event.downMs / 1000} s)`);
          this.note('redis-kill');
          await this.#o.stack.redis.kill('SIGKILL');
          this.kills.redis++;
          await sleep(event.downMs);
          await this.#o.stack.startRedis();
          this.note('redis-ready');
          const recovery = await this.measureRecovery(Date.now());
          this.recoveries.push(recovery);
          const took = recovery.seconds?.toFixed(1) ?? `never (probe ${recovery.lastState})`;
          say(`  redis back; recovered in ${took} s`);
        } finally {
          this.#killsHeld = false;
        }
        return;
      }
    }
  }

  /**
   * From `readyAt` (Redis accepting again): enqueue a CME operation through the API (again
   * until accepted) and wait until it has ended.
   */
  async measureRecovery(readyAt: number): Promise<RedisRecovery> {
    const giveUpAt = readyAt + this.#o.recoveryLimitMs;
    const id = await this.#o.load.cme(`probe-${this.#probes++}`, giveUpAt);
    if (id === undefined) {
      return { acceptingSeconds: undefined, seconds: undefined, lastState: 'not accepted' };
    }
    const acceptingSeconds = (Date.now() - readyAt) / 1000;
    let lastState = 'unknown';
    while (Date.now() < giveUpAt) {
      const answer = await this.#o.api
        .request('GET', `/v1/jobs/${encodeURIComponent(id)}`)
        .catch(() => undefined);
      lastState = (answer?.body as { state?: string } | undefined)?.state ?? lastState;
      if (lastState === 'completed' || lastState === 'dead') {
        return { acceptingSeconds, seconds: (Date.now() - readyAt) / 1000, lastState };
      }
      await sleep(100);
    }
    return { acceptingSeconds, seconds: undefined, lastState };
  }

  async #restartWorker(index: number): Promise<void> {
    if (this.#busy.has(index)) return;
    this.#busy.add(index);
    try {
      await this.#o.stack.startWorker(index);
    } catch (error) {
      this.#o.say(`chaos: worker-${index + 1} did not restart: ${error}`);
    } finally {
      this.#busy.delete(index);
    }
  }

  #crashed(name: string, code: number | null): void {
    this.crashes.set(name, (this.crashes.get(name) ?? 0) + 1);
    this.#o.say(`  ${name} exited on its own (code ${code})`);
  }
}

async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
}

async function postJson(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
}
