import { type DrawingScript, parseDrawingScript } from './drawing-answer.ts';
import type { DrawingCounters } from './drawing-counter-set.ts';
import type { DrawingFaultPatch, DrawingFaults } from './drawing-faults.ts';
import { type DrawingReply, rawReply } from './drawing-reply.ts';
import type { DrawingTaskSummary } from './drawing-task-calls.ts';

/** What the admin endpoints drive. */
export interface DrawingControl {
  setFaults(patch: DrawingFaultPatch): void;
  faults(): DrawingFaults;
  resetFaults(): void;
  resetCounters(): void;
  counters(): DrawingCounters;
  submitsFor(text: string): number;
  queriesFor(taskId: string): number;
  tasks(textPrefix?: string): DrawingTaskSummary[];
  script(text: string, script: DrawingScript): void;
}

export const DRAWING_ADMIN_PREFIX = '/__admin/';

function json(status: number, value: unknown): DrawingReply {
  return rawReply(status, JSON.stringify(value));
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new SyntaxError('body must be JSON');
  }
}

function route(
  control: DrawingControl,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer,
) {
  const endpoint = `${method} ${path}`;
  switch (endpoint) {
    case 'GET /__admin/counters': {
      const text = query.get('text');
      const taskId = query.get('taskId');
      return json(200, {
        ...control.counters(),
        ...(text === null ? {} : { submitsForText: control.submitsFor(text) }),
        ...(taskId === null ? {} : { queriesForTaskId: control.queriesFor(taskId) }),
      });
    }
    case 'GET /__admin/tasks':
      return json(200, { tasks: control.tasks(query.get('textPrefix') ?? '') });
    case 'GET /__admin/faults':
      return json(200, control.faults());
    case 'POST /__admin/faults':
      control.setFaults(parseJson(body) as DrawingFaultPatch); // validated by setFaults
      return json(200, control.faults());
    case 'POST /__admin/reset':
      control.resetFaults();
      control.resetCounters();
      return json(200, { ok: true });
    case 'POST /__admin/script': {
      const { text, ...script } = parseJson(body) as Record<string, unknown>;
      if (typeof text !== 'string') throw new TypeError('text must be a string');
      control.script(text, parseDrawingScript(script));
      return json(200, { ok: true });
    }
    default:
      return json(404, { error: `no admin endpoint ${endpoint}` });
  }
}

/**
 * The admin endpoints: `GET|POST /__admin/faults`, `POST /__admin/reset` (faults, scripts and
 * counters), `GET /__admin/counters[?text=&taskId=]`, `POST /__admin/script` `{text, submit?, query?}`,
 * `GET /__admin/tasks[?textPrefix=]` (the tasks created, with whether their id was answered).
 */
export function handleDrawingAdmin(
  control: DrawingControl,
  method: string,
  path: string,
  rawQuery: string,
  body: Buffer,
): DrawingReply {
  try {
    return route(control, method, path, new URLSearchParams(rawQuery), body);
  } catch (error) {
    return json(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
