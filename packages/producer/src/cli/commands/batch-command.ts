import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { isBatchFinished } from '@atelier/store';
import type { Producer } from '../../lib/producer.ts';
import { openBatchFile } from '../batch-file.ts';
import { type CliIo, EXIT, printJson, sleep } from '../cli-io.ts';
import { ProgressBar } from '../progress-bar.ts';
import { UsageError } from '../usage-error.ts';
import { batchDownload } from './batch-download.ts';
import { numberArg } from './draw-command.ts';

/** `batch cancel|pause|resume <id>`: the producer call, and what the batch became. */
const STEER = {
  cancel: (producer: Producer, id: string) => producer.cancelBatch(id),
  pause: (producer: Producer, id: string) => producer.pauseBatch(id),
  resume: (producer: Producer, id: string) => producer.resumeBatch(id),
} as const;

/**
 * `batch submit <file> [--wait] [--out results.jsonl] …`, `batch status <id>`,
 * `batch download <id> --dir <folder>` and `batch cancel|pause|resume <id>`.
 */
export async function batchCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'submit') return submit(rest, io);
  if (sub === 'status') return status(rest, io);
  if (sub === 'download') return batchDownload(rest, io);
  if (sub === 'cancel' || sub === 'pause' || sub === 'resume') return steer(sub, rest, io);
  throw new UsageError(
    'usage: atelier batch submit <file.csv|file.jsonl> [--wait] [--out results.jsonl] | atelier batch status <id> | atelier batch download <id> --dir <folder> | atelier batch cancel|pause|resume <id>',
  );
}

async function submit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      wait: { type: 'boolean', default: false },
      out: { type: 'string' },
      priority: { type: 'string' },
      'idempotency-key': { type: 'string' },
      'callback-url': { type: 'string' },
    },
  });
  const [path] = positionals;
  if (path === undefined || positionals.length > 1) {
    throw new UsageError(
      'usage: atelier batch submit <file.csv|file.jsonl> [--wait] [--out results.jsonl]',
    );
  }
  const file = await openBatchFile(path);
  const env = await io.open();
  try {
    const bar = new ProgressBar(io.stderr);
    let total = 0;
    const batch = await env.producer
      .createBatch(file, {
        itemLabel: (index) => `line ${file.lineOf(index) ?? '?'}`,
        onEnqueued: (enqueued, of) => {
          total = of;
          if (enqueued < of) bar.update({ total: of, completed: 0, dead: 0, enqueued });
        },
        ...(values.priority !== undefined
          ? { priority: numberArg(values.priority, '--priority') }
          : {}),
        ...(values['idempotency-key'] !== undefined
          ? { idempotencyKey: values['idempotency-key'] }
          : {}),
        ...(values['callback-url'] !== undefined ? { callbackUrl: values['callback-url'] } : {}),
      })
      .catch((error: unknown) => {
        throw withFileName(error, path);
      });
    total = batch.total;
    io.stdout.write(`${batch.id}\n`);
    io.stderr.write(
      `batch ${batch.id}: ${batch.total} items queued${batch.created ? '' : ' (already known by its idempotency key)'}\n`,
    );
    if (!values.wait && values.out === undefined) return EXIT.ok;

    const info = await waitForBatch(env.producer, batch.id, total, bar, io);
    if (values.out !== undefined) {
      await writeResults(env.producer, batch.id, values.out);
      io.stderr.write(`results written to ${values.out}\n`);
    }
    return info.dead > 0 || info.state === 'incomplete' ? EXIT.failure : EXIT.ok;
  } finally {
    await env.producer.close();
  }
}

async function status(args: string[], io: CliIo): Promise<number> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('-') || rest.length > 0)
    throw new UsageError('usage: atelier batch status <id>');
  const env = await io.open();
  try {
    const { callbackUrl: _private, ...info } = await env.producer.getBatch(id);
    printJson(io.stdout, info);
    return EXIT.ok;
  } finally {
    await env.producer.close();
  }
}

async function steer(action: keyof typeof STEER, args: string[], io: CliIo): Promise<number> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('-') || rest.length > 0)
    throw new UsageError(`usage: atelier batch ${action} <id>`);
  const env = await io.open();
  try {
    const { callbackUrl: _private, ...info } = await STEER[action](env.producer, id);
    printJson(io.stdout, info);
    io.stderr.write(`batch ${id}: ${steerNote(action, info.state)}\n`);
    return EXIT.ok;
  } finally {
    await env.producer.close();
  }
}

function steerNote(action: keyof typeof STEER, state: string): string {
  if (action === 'pause') return 'paused: nothing new is submitted until it is resumed';
  if (action === 'resume') return 'resumed';
  return state === 'cancelled'
    ? 'cancelled (nothing was left in flight)'
    : 'cancelling: nothing more is submitted; tasks already submitted finish and keep their results';
}

async function waitForBatch(
  producer: Producer,
  id: string,
  total: number,
  bar: ProgressBar,
  io: CliIo,
) {
  for (;;) {
    const info = await producer.getBatch(id);
    bar.update({ total, completed: info.completed, dead: info.dead });
    if (isBatchFinished(info.state)) {
      bar.finish();
      return info;
    }
    await sleep(io.pollIntervalMs);
  }
}

async function writeResults(producer: Producer, id: string, path: string): Promise<void> {
  const out = createWriteStream(path);
  for await (const line of producer.batchResults(id)) {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Errors about the file's content name the file (their messages already name the line). */
function withFileName(error: unknown, path: string): unknown {
  if (!(error instanceof Error)) return error;
  const issues = (error as { issues?: Array<{ message: string }> }).issues;
  if (Array.isArray(issues)) {
    for (const issue of issues) issue.message = `${path}: ${issue.message}`;
  }
  if (/^line \d+/.test(error.message)) error.message = `${path}: ${error.message}`;
  return error;
}
