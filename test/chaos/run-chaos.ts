/**
 * `pnpm chaos [--quick] [--seed N]`: the chaos suite of issue 12. Runs the real processes
 * (redis-server with AOF and `appendfsync always`, the simulator, two workers behind TCP
 * proxies, the API), puts them under load through the HTTP API and breaks things on purpose:
 * SIGKILL of a random worker every few seconds (restarted on the same journal dir), Redis
 * SIGKILLed and restarted, a worker's Redis connections cut for longer than BullMQ's lock,
 * provider storms, and at the end SIGTERM of every Atelier process while Redis is down. Then
 * everything comes back, the jobs get `drainMs` to end, and one table says whether Atelier's
 * promise held: nothing lost, nothing paid twice, every job completed or dead-lettered once.
 * Exit code 1 when an invariant failed, 2 when the harness itself failed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startCallbackReceiver } from '../callbacks/callback-receiver.ts';
import { ChaosApiClient } from './chaos-api-client.ts';
import { explainPaidTwice } from './chaos-diagnosis.ts';
import { ChaosInjector, HOLD_DELAY_MS } from './chaos-injector.ts';
import { BLOCKED_WORD, ChaosLoad } from './chaos-load.ts';
import {
  callbacksSeen,
  deadLetterInserts,
  drain,
  readBatch,
  readPaidTasks,
  readTruth,
} from './chaos-observer.ts';
import { planChaos } from './chaos-plan.ts';
import { CHAOS_PROFILES, type ChaosProfile } from './chaos-profile.ts';
import { chaosRandom } from './chaos-random.ts';
import { API_KEY, ChaosStack, SHUTDOWN_GRACE_MS } from './chaos-stack.ts';
import { CALM } from './chaos-storms.ts';
import {
  type ChaosObservations,
  chaosVerdict,
  formatChaosTable,
  jobsWithoutCallback,
} from './chaos-verdict.ts';

const RECOVERY_LIMIT_MS = 60_000;
const EXIT_LIMIT_SECONDS = (SHUTDOWN_GRACE_MS + 5_000) / 1000;
/** A process still there this long after SIGTERM is SIGKILLed (and counted as hung). */
const GIVE_UP_MS = EXIT_LIMIT_SECONDS * 1000 + 3_000;
const CME_USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];

const args = process.argv.slice(2);
const profile = CHAOS_PROFILES[args.includes('--quick') ? 'quick' : 'full'];
const seedArg = args.indexOf('--seed');
const seed = seedArg >= 0 ? Number(args[seedArg + 1]) : randomBytes(4).readUInt32BE();
const began = Date.now();
/** What to stop if the harness itself fails half-way. */
const cleanups: Array<() => Promise<unknown>> = [];
const say = (line: string) => {
  const at = ((Date.now() - began) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[chaos ${at}s] ${line}\n`);
};

async function main(): Promise<number> {
  const random = chaosRandom(seed);
  const runId = randomBytes(3).toString('hex');
  // In the checkout (ignored by git), not in a shared temporary folder others may sweep.
  const stamp = new Date().toISOString().replaceAll(/[:.]/g, '-');
  const runDir = fileURLToPath(new URL(`../../.data/chaos/${stamp}-${runId}`, import.meta.url));
  mkdirSync(runDir, { recursive: true });
  const callbackSecret = randomBytes(16).toString('hex');
  say(`profile ${profile.name}, seed ${seed}, run ${runId}, logs in ${runDir}`);
  const plan = planChaos(profile, random);

  const receiver = await startCallbackReceiver({ secret: callbackSecret });
  cleanups.push(() => receiver.close());
  const stack = await ChaosStack.start({ runDir, callbackSecret, drawingDurationMs: 4_000 });
  cleanups.push(() => stack.close(5_000));
  const api = new ChaosApiClient(stack.apiUrl, API_KEY);
  const materials = await seedCme(stack.cmeAdmin);
  await fetch(`${stack.drawingAdmin}faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ blockedWords: [BLOCKED_WORD] }),
  });
  const load = new ChaosLoad({ api, runId, callbackUrl: receiver.url, random, materials });
  const injector = new ChaosInjector({
    stack,
    api,
    load,
    profile,
    random,
    say,
    recoveryLimitMs: RECOVERY_LIMIT_MS,
  });
  say(`stack up: api ${stack.apiUrl}, redis ${stack.redisUrl}`);

  // --- Chaos phase: load, kills, storms, cuts, Redis restarts ------------------------------
  const startedAt = Date.now();
  const chaosEnd = startedAt + profile.chaosMs;
  await Promise.all([
    sendLoad(load, profile, startedAt, chaosEnd + 60_000),
    injector.runKiller(chaosEnd),
    injector.runPlan(plan, startedAt),
  ]);
  await injector.setFaults(CALM);
  await injector.workersUp();
  say(`chaos phase over: ${load.accepted.length} jobs accepted`);

  // --- SIGTERM everything while Redis is down, with work in flight ---------------------------
  await injector.setFaults({
    drawing: { delayMs: HOLD_DELAY_MS },
    cme: { delayMs: HOLD_DELAY_MS },
  });
  injector.note('wave');
  const waveEnd = Date.now() + 60_000;
  const wave = [
    ...Array.from({ length: profile.shutdownWave.drawings }, (_, i) =>
      load.drawing(`w${i}`, waveEnd),
    ),
    ...Array.from({ length: profile.shutdownWave.cmeOps }, (_, i) => load.cme(`wc${i}`, waveEnd)),
  ];
  await Promise.all(wave);
  const waveTasks = Math.ceil(profile.shutdownWave.drawings / 3);
  for (const until = Date.now() + 15_000; Date.now() < until; await sleep(100)) {
    if ((await readPaidTasks(stack.drawingAdmin, `${load.textPrefix}w`)).length >= waveTasks) break;
  }
  say('SIGKILL redis, then SIGTERM to the API (busy with reads) and both workers');
  injector.supervise(false);
  const reads = keepReading(
    api,
    load.accepted.map((j) => j.id),
  );
  injector.note('shutdown');
  await stack.redis.kill('SIGKILL');
  const downExits = await stack.terminateAtelier(GIVE_UP_MS);
  await reads.stop();
  say(
    `exits: ${downExits.map((e) => `${e.name} ${e.seconds?.toFixed(1) ?? 'hung'} s`).join(', ')}`,
  );
  await injector.setFaults({ drawing: { delayMs: 0 }, cme: { delayMs: 0 } });

  // --- Everything back (same AOF, same journal dirs), then the drain -----------------------
  await stack.startRedis();
  await Promise.all([stack.startApi(), ...stack.workers.map((_, i) => stack.startWorker(i))]);
  injector.supervise(true);
  say(`restarted; draining ${load.accepted.length} jobs (up to ${profile.drainMs / 1000} s)`);
  const open = await drain(api, load.accepted, Date.now() + profile.drainMs, say);
  say(`drain over: ${open} jobs not ended`);
  injector.supervise(false);

  // --- What happened -----------------------------------------------------------------------
  const truth = await readTruth(api, stack.redisUrl, load.accepted);
  const paidTasks = await readPaidTasks(stack.drawingAdmin, load.textPrefix);
  const batchIds = [...new Set(load.accepted.flatMap((j) => (j.batchId ? [j.batchId] : [])))];
  const batches = await Promise.all(batchIds.map((id) => readBatch(api, id)));
  // Callbacks of jobs that ended last may still be on their way (or backing off).
  for (const until = Date.now() + 30_000; Date.now() < until; await sleep(200)) {
    if (jobsWithoutCallback(load.accepted, truth, callbacksSeen(receiver)).length === 0) break;
  }
  const callbacks = callbacksSeen(receiver);
  say('SIGTERM to everything (Redis up)');
  cleanups.length = 0;
  const finalExits = await stack.close(GIVE_UP_MS);
  await receiver.close();

  const observations: ChaosObservations = {
    requested: load.requested,
    notAccepted: load.notAccepted.length,
    accepted: load.accepted,
    truth,
    paidTasks,
    callbacks,
    deadLetterInserts: deadLetterInserts(stack.workers.map((w) => w.logFile)),
    batches,
    recoveries: injector.recoveries,
    unavailableMs: load.unavailableMs,
    kills: injector.kills,
    exits: [
      { phase: 'Redis down', limitSeconds: EXIT_LIMIT_SECONDS, timings: downExits },
      { phase: 'Redis up', limitSeconds: EXIT_LIMIT_SECONDS, timings: finalExits },
    ],
    recoveryLimitSeconds: RECOVERY_LIMIT_MS / 1000,
  };
  const verdict = chaosVerdict(observations);
  const crashes = [...injector.crashes].map(([name, n]) => `${name} ×${n}`).join(', ') || 'none';
  process.stdout.write(
    `\nChaos (${profile.name}, seed ${seed}, ${((Date.now() - began) / 1000).toFixed(0)} s; ` +
      `processes that exited on their own: ${crashes})\n\n${formatChaosTable(verdict)}\n\n`,
  );
  const causes = explainPaidTwice(paidTasks, injector.moments);
  if (causes.length > 0) {
    process.stdout.write(
      'Paid twice, by what the harness did right after the first paid submit:\n',
    );
    for (const c of causes) {
      const range = c.rangeMs ? ` (${c.rangeMs[0]}–${c.rangeMs[1]} ms after it)` : '';
      process.stdout.write(`  ${c.jobs} ${c.cause}${range}, e.g. "${c.samples.join('", "')}"\n`);
    }
    process.stdout.write('\n');
  }
  rmSync(join(runDir, 'redis'), { recursive: true, force: true });
  say(
    verdict.failed.length === 0
      ? 'every invariant held'
      : `FAILED: ${verdict.failed.join(', ')} (logs: ${runDir})`,
  );
  return verdict.failed.length === 0 ? 0 : 1;
}

/**
 * Sends the drawings, the batch (a fifth of the way in) and the CME operations, spread evenly
 * over `loadMs`, at most 12 requests in flight.
 */
async function sendLoad(
  load: ChaosLoad,
  p: ChaosProfile,
  startedAt: number,
  giveUpAt: number,
): Promise<void> {
  const sends: Array<() => Promise<unknown>> = [];
  const total = p.drawings + p.cmeOps;
  let cme = 0;
  for (let i = 0; i < p.drawings; i++) {
    sends.push(() => load.drawing(`d${i}`, giveUpAt));
    // CME operations interleaved in proportion.
    while (cme < ((i + 1) * p.cmeOps) / p.drawings) {
      const n = cme++;
      sends.push(() => load.cme(`c${n}`, giveUpAt));
    }
  }
  sends.splice(Math.floor(sends.length / 5), 0, () => load.batch('b0', p.batchItems, giveUpAt));
  const inFlight = new Set<Promise<unknown>>();
  for (const [k, send] of sends.entries()) {
    const at = startedAt + (k * p.loadMs) / (total + 1);
    if (at > Date.now()) await sleep(at - Date.now());
    while (inFlight.size >= 12) await Promise.race(inFlight);
    const sent = send().finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  }
  await Promise.all(inFlight);
}

/** Status reads from 8 clients at once (each touches Redis) until `stop()`. */
function keepReading(api: ChaosApiClient, ids: string[]): { stop(): Promise<void> } {
  let reading = true;
  let n = 0;
  const lane = async () => {
    while (reading) {
      const id = ids[n++ % ids.length] as string;
      await api.request('GET', `/v1/jobs/${encodeURIComponent(id)}`).catch(() => sleep(50));
    }
  };
  const lanes = Array.from({ length: 8 }, lane);
  return {
    stop: async () => {
      reading = false;
      await Promise.all(lanes);
    },
  };
}

async function seedCme(cmeAdmin: string): Promise<Map<string, string[]>> {
  const materials = new Map<string, string[]>();
  for (const user of CME_USERS) {
    const owner = { Type: 'PERSON', Id: user };
    const response = await fetch(`${cmeAdmin}seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        materials: [0, 1, 2].map((i) => ({ owner, name: `material ${i}` })),
      }),
    });
    const { materialIds } = (await response.json()) as { materialIds: string[] };
    materials.set(user, materialIds);
  }
  return materials;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    process.stderr.write(`chaos: ${signal}: stopping the stack\n`);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    process.exit(2);
  });
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    process.exit(2);
  },
);
