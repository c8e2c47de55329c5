import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApigRequest } from './apig-canonical-request.ts';
import { DRAWING_ADMIN_PREFIX, type DrawingControl, handleDrawingAdmin } from './drawing-admin.ts';
import type { DrawingAnswer, DrawingScript } from './drawing-answer.ts';
import { checkDrawingAuth } from './drawing-auth.ts';
import { DrawingCounterSet, type DrawingCounters } from './drawing-counter-set.ts';
import {
  DRAWING_FAULT_CODES,
  type DrawingCodeRates,
  type DrawingFaultCode,
  type DrawingFaultPatch,
  type DrawingFaults,
  type GatewayFlavour,
  noDrawingFaults,
  parseDrawingFaultPatch,
} from './drawing-faults.ts';
import type { DrawingOperation } from './drawing-operation.ts';
import {
  businessReply,
  type DrawingReply,
  htmlReply,
  malformedReply,
  rawReply,
} from './drawing-reply.ts';
import { DrawingScriptBook } from './drawing-script-book.ts';
import {
  type DrawingSimulatorOptions,
  type ResolvedDrawingSimulatorOptions,
  resolveDrawingSimulatorOptions,
} from './drawing-simulator-options.ts';
import {
  DrawingTaskCalls,
  type DrawingTaskSummary,
  type TaskAnswer,
  type TaskCall,
} from './drawing-task-calls.ts';
import { gatewayFaultReply, gatewayNotFoundReply } from './gateway-fault-reply.ts';
import { QpsWindow } from './qps-window.ts';
import { readBody } from './read-body.ts';
import { SeededRandom } from './seeded-random.ts';
import { sendImage } from './send-image.ts';

interface Decision {
  reply: DrawingReply;
  delayMs: number;
  /** The task whose id this reply carries (a successful submit), to note when it goes out. */
  createdTaskId?: string;
}

/**
 * The simulated drawing provider and its gateway, without a server of its own: `handle` is a
 * `node:http` request listener, so it can share a server with other fakes.
 */
export class DrawingProvider implements DrawingControl {
  readonly submitPath: string;
  readonly queryPath: string;
  readonly #options: ResolvedDrawingSimulatorOptions;
  readonly #gateway: GatewayFlavour;
  readonly #counters = new DrawingCounterSet();
  readonly #scripts = new DrawingScriptBook();
  readonly #calls: DrawingTaskCalls;
  readonly #faultRandom: SeededRandom;
  readonly #pendingAnswers = new Set<NodeJS.Timeout>();
  #faults = noDrawingFaults();
  #qps: QpsWindow | null = null;
  #requestNo = 0;
  readonly #requestNoPrefix: string;

  constructor(options: DrawingSimulatorOptions = {}) {
    this.#options = resolveDrawingSimulatorOptions(options);
    const { seed, submitPath, queryPath, auth } = this.#options;
    this.submitPath = submitPath;
    this.queryPath = queryPath;
    this.#gateway = auth.mode === 'aliyun-appcode' ? 'aliyun' : 'huawei';
    this.#faultRandom = SeededRandom.derive(seed, 1);
    const prefix = Math.floor(SeededRandom.derive(seed, 2).next() * 1e12);
    this.#requestNoPrefix = String(prefix).padStart(12, '0');
    this.#calls = new DrawingTaskCalls(
      this.#options,
      this.#counters,
      this.#faultRandom,
      () => this.#faults,
    );
    this.setFaults(this.#options.faults);
  }

  /** A `node:http` request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A request aborted mid-body (or a server closing under it) gets its socket destroyed.
    this.#handle(req, res).catch(() => res.destroy());
  };

  setFaults(patch: DrawingFaultPatch): void {
    const parsed = parseDrawingFaultPatch(patch);
    this.#faults = { ...this.#faults, ...parsed };
    if ('throttle' in parsed) {
      this.#qps = parsed.throttle ? new QpsWindow(parsed.throttle.qps) : null;
    }
  }

  faults(): DrawingFaults {
    return structuredClone(this.#faults);
  }

  /** Clears every fault and every unconsumed scripted answer. */
  resetFaults(): void {
    this.#faults = noDrawingFaults();
    this.#qps = null;
    this.#scripts.clear();
  }

  /** Queues answers for calls about `text` (appended to any still unconsumed). */
  script(text: string, script: DrawingScript): void {
    this.#scripts.add(text, script);
  }

  /** Scripted answers not yet consumed for `text`. */
  scriptRemaining(text: string): { submit: number; query: number } {
    return this.#scripts.remaining(text);
  }

  counters(): DrawingCounters {
    return this.#counters.snapshot();
  }

  submitsFor(text: string): number {
    return this.#counters.submitsFor(text);
  }

  queriesFor(taskId: string): number {
    return this.#counters.queriesFor(taskId);
  }

  /**
   * The tasks created (what the provider bills) for texts starting with `textPrefix`, in
   * creation order, each with whether its submit answer was handed to the caller's connection.
   */
  tasks(textPrefix = ''): DrawingTaskSummary[] {
    return this.#calls.tasks(textPrefix);
  }

  resetCounters(): void {
    this.#counters.reset();
  }

  /** When a task was submitted and when its images are (or were) ready; for benchmarks. */
  taskTiming(taskId: string): { submittedAtMs: number; readyAtMs: number } | undefined {
    return this.#calls.timing(taskId);
  }

  /** Tasks in memory (they live as long as the provider). */
  get taskCount(): number {
    return this.#calls.taskCount;
  }

  /** Drops answers still waiting out a delay (their sockets are left to the server's close). */
  cancelPendingAnswers(): void {
    for (const timer of this.#pendingAnswers) clearTimeout(timer);
    this.#pendingAnswers.clear();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const body = await readBody(req, this.#options.maxBodyBytes);
    if ((method === 'GET' || method === 'HEAD') && rawPath.startsWith('/images/')) {
      this.#sendImage(res, rawPath, method === 'HEAD');
      return;
    }
    const decision: Decision =
      body === null
        ? { reply: rawReply(413, '{"error":"body too large"}'), delayMs: 0 }
        : this.#route({
            method,
            rawPath,
            rawQuery: q === -1 ? '' : url.slice(q + 1),
            headers: req.headers,
            body,
          });
    this.#send(res, decision);
  }

  #route(request: ApigRequest): Decision {
    const { method, rawPath } = request;
    if (rawPath.startsWith(DRAWING_ADMIN_PREFIX)) {
      return {
        reply: handleDrawingAdmin(this, method, rawPath, request.rawQuery, asBuffer(request.body)),
        delayMs: 0,
      };
    }
    const op: DrawingOperation | undefined =
      rawPath === this.submitPath ? 'submit' : rawPath === this.queryPath ? 'query' : undefined;
    if (op === undefined || method !== 'POST') {
      return { reply: gatewayNotFoundReply(this.#gateway, this.#nextRequestNo()), delayMs: 0 };
    }
    return this.#decide(op, request);
  }

  #decide(op: DrawingOperation, request: ApigRequest): Decision {
    const nowMs = this.#options.clock();
    const requestNo = this.#nextRequestNo();
    const fields = parseForm(request);
    const text = fields.get('text') ?? undefined;
    const taskId = fields.get('taskId') ?? undefined;
    if (op === 'submit') this.#counters.submit(text);
    else this.#counters.query(taskId);

    const denied = checkDrawingAuth(this.#options.auth, request, {
      nowMs,
      maxClockSkewMs: this.#options.maxClockSkewMs,
      requestId: requestNo,
    });
    if (denied) {
      this.#counters.authFailure();
      return { reply: denied, delayMs: 0 };
    }
    const gatewayFault = gatewayFaultReply(
      this.#faults,
      this.#qps,
      this.#gateway,
      nowMs,
      requestNo,
      this.#counters,
    );
    if (gatewayFault) return { reply: gatewayFault, delayMs: 0 };

    const call = { op, fields, nowMs, requestNo, host: hostOf(request) };
    const scriptText = op === 'submit' ? text : this.#calls.textOf(taskId);
    const scripted = scriptText === undefined ? undefined : this.#scripts.take(scriptText, op);
    if (scripted) {
      this.#counters.fault('scripted');
      return { ...this.#scripted(scripted, call), delayMs: scripted.delayMs ?? 0 };
    }
    return this.#withRandomFaults(call);
  }

  #scripted(answer: DrawingAnswer, call: TaskCall): TaskAnswer {
    if ('drop' in answer) {
      if (answer.drop === 'after') this.#calls.answer(call);
      return { reply: { kind: 'drop' } };
    }
    if ('http' in answer)
      return { reply: rawReply(answer.http, answer.body ?? '', answer.headers) };
    if ('code' in answer && answer.code !== 200) {
      return { reply: businessReply(answer.code, call.requestNo, answer.msg) };
    }
    if ('malformed' in answer) return { reply: malformedReply(this.#calls.answer(call)) };
    if ('status' in answer) return this.#calls.respond({ ...call, forcedStatus: answer.status });
    return this.#calls.respond(call);
  }

  #withRandomFaults(call: TaskCall): Decision {
    const faults = this.#faults;
    const random = this.#faultRandom;
    let delayMs = faults.delayMs;
    if (random.chance(faults.slowRate)) delayMs += faults.slowDelayMs;
    if (delayMs > 0) this.#counters.fault('slow');

    const maintenance = faults.maintenance;
    if (maintenance && call.nowMs < maintenance.untilEpochMs) {
      this.#counters.fault('maintenance');
      return { reply: businessReply(maintenance.code, call.requestNo), delayMs };
    }
    if (random.chance(faults.dropRate)) {
      this.#counters.fault('drop');
      return { reply: { kind: 'drop' }, delayMs };
    }
    if (random.chance(faults.htmlRate)) {
      this.#counters.fault('html');
      return { reply: htmlReply(faults.htmlStatus), delayMs };
    }
    const code = pickCode(
      call.op === 'submit' ? faults.submitCodeRates : faults.queryCodeRates,
      random,
    );
    if (code !== undefined) {
      this.#counters.fault(`code${code}`);
      return { reply: businessReply(code, call.requestNo), delayMs };
    }
    const answer = this.#calls.respond(call);
    if (random.chance(faults.malformedRate)) {
      this.#counters.fault('malformed');
      return { reply: malformedReply(answer.reply), delayMs };
    }
    return { ...answer, delayMs };
  }

  #sendImage(res: ServerResponse, rawPath: string, headOnly: boolean): void {
    const image = this.#calls.image(rawPath);
    if (image === undefined) {
      this.#send(res, { reply: rawReply(404, '{"error":"no such image"}'), delayMs: 0 });
      return;
    }
    if (!headOnly) this.#counters.imageDownload();
    const fault = this.#faults.image;
    if (fault !== null && !headOnly) this.#counters.fault('image');
    sendImage(res, image, fault, headOnly);
  }

  #send(res: ServerResponse, decision: Decision): void {
    const { reply, delayMs, createdTaskId } = decision;
    const answer = () => {
      // Written to a connection still open (not to a caller that gave up): the taskId went out.
      if (write(res, reply) && createdTaskId !== undefined) this.#calls.markAnswered(createdTaskId);
    };
    if (delayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.#pendingAnswers.delete(timer);
      answer();
    }, delayMs);
    this.#pendingAnswers.add(timer);
  }

  #nextRequestNo(): string {
    return `${this.#requestNoPrefix}${String(++this.#requestNo).padStart(12, '0')}`;
  }
}

/** Sends the reply; true when an HTTP answer was written to an open connection. */
function write(res: ServerResponse, reply: DrawingReply): boolean {
  if (res.destroyed) return false;
  if (reply.kind === 'drop') {
    res.destroy();
    return false;
  }
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
  return true;
}

function parseForm(request: ApigRequest): URLSearchParams {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return new URLSearchParams();
  return new URLSearchParams(asBuffer(request.body).toString('utf8'));
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hostOf(request: ApigRequest): string | undefined {
  return request.headers.host;
}

/** One draw over the cumulative rates; none when every rate is 0. */
function pickCode(rates: DrawingCodeRates, random: SeededRandom): DrawingFaultCode | undefined {
  let total = 0;
  for (const code of DRAWING_FAULT_CODES) total += rates[code] ?? 0;
  if (total <= 0) return undefined;
  let u = random.next();
  for (const code of DRAWING_FAULT_CODES) {
    u -= rates[code] ?? 0;
    if (u < 0) return code;
  }
  return undefined;
}
