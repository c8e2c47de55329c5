import type { DrawingCounterSet } from './drawing-counter-set.ts';
import type { DrawingFaults } from './drawing-faults.ts';
import type { DrawingOperation } from './drawing-operation.ts';
import { businessReply, type DrawingReply, queryReply, submitReply } from './drawing-reply.ts';
import type { ResolvedDrawingSimulatorOptions } from './drawing-simulator-options.ts';
import { drawnImage } from './drawn-image.ts';
import { formatCreateTime } from './format-create-time.ts';
import { SeededRandom } from './seeded-random.ts';
import { TaskStore } from './task-store.ts';
import { validateSubmit } from './validate-submit.ts';

/** One submit or query call that got past the gateway. */
export interface TaskCall {
  op: DrawingOperation;
  fields: URLSearchParams;
  nowMs: number;
  requestNo: string;
  /** The request's Host header, for image URLs. */
  host: string | undefined;
  /** A scripted status to answer instead of the task's own. */
  forcedStatus?: number;
}

/** A task the provider created (what it bills), for the admin read of paid tasks. */
export interface DrawingTaskSummary {
  taskId: string;
  text: string;
  submittedAtMs: number;
  /** The submit answer carrying the taskId was handed to the caller's connection. */
  answered: boolean;
}

/** An answer, with the id of the task the call created (successful submits only). */
export interface TaskAnswer {
  reply: DrawingReply;
  createdTaskId?: string;
}

const IMAGE_PATH = /^\/images\/(\d+)\/(\d+)\.png$/;

/** What the vendor does with a call: validate, create or look up the task, answer. */
export class DrawingTaskCalls {
  readonly #options: ResolvedDrawingSimulatorOptions;
  readonly #counters: DrawingCounterSet;
  readonly #faultRandom: SeededRandom;
  readonly #faults: () => DrawingFaults;
  readonly #tasks: TaskStore;

  constructor(
    options: ResolvedDrawingSimulatorOptions,
    counters: DrawingCounterSet,
    faultRandom: SeededRandom,
    faults: () => DrawingFaults,
  ) {
    this.#options = options;
    this.#counters = counters;
    this.#faultRandom = faultRandom;
    this.#faults = faults;
    this.#tasks = new TaskStore({
      duration: options.duration,
      perExtraImageMs: options.perExtraImageMs,
      upstreamConcurrency: options.upstreamConcurrency,
      taskIdDigits: options.taskIdDigits,
      durationRandom: SeededRandom.derive(options.seed, 3),
      idRandom: SeededRandom.derive(options.seed, 4),
    });
  }

  get taskCount(): number {
    return this.#tasks.size;
  }

  textOf(taskId: string | undefined): string | undefined {
    return taskId === undefined ? undefined : this.#tasks.get(taskId)?.text;
  }

  /** When a task was submitted and when it is (or was) ready. */
  timing(taskId: string): { submittedAtMs: number; readyAtMs: number } | undefined {
    const task = this.#tasks.get(taskId);
    return task && { submittedAtMs: task.submittedAtMs, readyAtMs: task.readyAtMs };
  }

  answer(call: TaskCall): DrawingReply {
    return this.respond(call).reply;
  }

  respond(call: TaskCall): TaskAnswer {
    return call.op === 'submit' ? this.#submit(call) : { reply: this.#query(call) };
  }

  /** Notes that the submit answer carrying `taskId` was handed to the caller's connection. */
  markAnswered(taskId: string): void {
    const task = this.#tasks.get(taskId);
    if (task) task.answered = true;
  }

  /** The tasks created for texts starting with `textPrefix`, in creation order. */
  tasks(textPrefix = ''): DrawingTaskSummary[] {
    const found: DrawingTaskSummary[] = [];
    for (const [taskId, task] of this.#tasks.entries()) {
      if (!task.text.startsWith(textPrefix)) continue;
      const { text, submittedAtMs, answered } = task;
      found.push({ taskId, text, submittedAtMs, answered });
    }
    return found;
  }

  /**
   * The drawn PNG for `/images/<taskId>/<i>.png` of an existing task (the same bytes every
   * time, from the task's request), else undefined.
   */
  image(rawPath: string): Buffer | undefined {
    const match = IMAGE_PATH.exec(rawPath);
    const task = match?.[1] === undefined ? undefined : this.#tasks.get(match[1]);
    const index = Number(match?.[2]);
    if (task === undefined || !(index < task.num)) return undefined;
    return drawnImage({ text: task.text, style: task.style, resolution: task.resolution, index });
  }

  #charge(charged: boolean): boolean | undefined {
    return this.#options.includeCharge ? charged : undefined;
  }

  #submit(call: TaskCall): TaskAnswer {
    const validation = validateSubmit(call.fields, this.#options);
    if (!validation.ok) {
      const msg = `参数错误: ${validation.field}`;
      return { reply: businessReply(400, call.requestNo, msg, this.#charge(false)) };
    }
    const { text } = validation.request;
    if (this.#faults().blockedWords.some((word) => text.includes(word))) {
      this.#counters.fault('blocked');
      return { reply: businessReply(202, call.requestNo, undefined, this.#charge(false)) };
    }
    const { taskId } = this.#tasks.create(validation.request, call.nowMs);
    this.#counters.taskCreated();
    const { numericTaskIds } = this.#options;
    return {
      reply: submitReply(call.requestNo, taskId, numericTaskIds, this.#charge(true)),
      createdTaskId: taskId,
    };
  }

  #query(call: TaskCall): DrawingReply {
    const taskId = call.fields.get('taskId');
    if (taskId === null || taskId.trim() === '') {
      return businessReply(400, call.requestNo, '参数错误: taskId', this.#charge(false));
    }
    const task = this.#tasks.get(taskId.trim());
    if (task === undefined)
      return businessReply(201, call.requestNo, undefined, this.#charge(false));

    const ready = call.nowMs >= task.readyAtMs;
    let status: number;
    if (call.forcedStatus !== undefined) {
      status = call.forcedStatus;
    } else if (task.failedStatus !== undefined) {
      status = task.failedStatus;
    } else if (ready && this.#faultRandom.chance(this.#faults().badStatusRate)) {
      task.failedStatus = this.#faults().badStatus;
      this.#counters.fault('badStatus');
      status = task.failedStatus;
    } else {
      status = ready ? 1 : 0;
    }
    const base = this.#options.imageBaseUrl ?? `http://${call.host ?? 'localhost'}`;
    const imageUrls = Array.from(
      { length: task.num },
      (_, i) => `${base}/images/${taskId.trim()}/${i}.png`,
    );
    const waitingSec =
      status === 0 && this.#options.includeWaiting
        ? Math.max(1, Math.ceil((task.readyAtMs - call.nowMs) / 1000))
        : undefined;
    return queryReply(
      call.requestNo,
      {
        imageUrls,
        createTime: formatCreateTime(task.submittedAtMs, this.#options.timeZoneOffsetMinutes),
        status,
        ...(waitingSec === undefined ? {} : { waitingSec }),
      },
      this.#charge(false),
    );
  }
}
