import { parseArgs } from 'node:util';
import { isTerminalState } from '../../lib/job-status.ts';
import { type CliIo, EXIT, printJson, sleep } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';

/** `draw "<text>" [--style S] [--resolution R] [--num N] [--priority P] [--idempotency-key K] [--callback-url U] [--wait]` */
export async function drawCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      style: { type: 'string' },
      resolution: { type: 'string' },
      num: { type: 'string' },
      priority: { type: 'string' },
      'idempotency-key': { type: 'string' },
      'callback-url': { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '900' },
    },
  });
  const text = positionals[0];
  if (text === undefined || positionals.length > 1) {
    throw new UsageError(
      'draw takes one text argument: atelier draw "<text>" --style … --resolution …',
    );
  }
  const env = await io.open();
  try {
    const limits = env.config.drawing.limits;
    const { id, created } = await env.producer.enqueueDrawing({
      text,
      style: values.style ?? (limits.styles[0] as string),
      resolution: values.resolution ?? (limits.resolutions[0] as string),
      ...(values.num !== undefined ? { num: numberArg(values.num, '--num') } : {}),
      ...(values.priority !== undefined
        ? { priority: numberArg(values.priority, '--priority') }
        : {}),
      ...(values['idempotency-key'] !== undefined
        ? { idempotencyKey: values['idempotency-key'] }
        : {}),
      ...(values['callback-url'] !== undefined ? { callbackUrl: values['callback-url'] } : {}),
    });
    io.stdout.write(`${id}\n`);
    if (!created) io.stderr.write(`(already known by its idempotency key: ${id})\n`);
    if (!values.wait) return EXIT.ok;

    const deadline = Date.now() + numberArg(values.timeout, '--timeout') * 1000;
    let previous = '';
    for (;;) {
      const status = await env.producer.getJob(id);
      if (status.state !== previous) io.stderr.write(`${id}: ${status.state}\n`);
      previous = status.state;
      // A terminal state always comes with its outcome (the status is read in one snapshot).
      if (status.state === 'completed') {
        printJson(io.stdout, status.result);
        return EXIT.ok;
      }
      if (isTerminalState(status.state)) {
        io.stderr.write(`${id} failed: [${status.error?.code}] ${status.error?.message}\n`);
        return EXIT.failure;
      }
      if (Date.now() > deadline) {
        io.stderr.write(`${id} still ${status.state} after --timeout; it keeps running\n`);
        return EXIT.failure;
      }
      await sleep(io.pollIntervalMs);
    }
  } finally {
    await env.producer.close();
  }
}

/** A whole number from a flag; anything else is a usage error naming the flag. */
export function numberArg(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}
