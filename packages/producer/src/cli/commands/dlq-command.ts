import { parseArgs } from 'node:util';
import type { DeadLetterFilter } from '@atelier/store';
import { type CliIo, EXIT, printJson } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';
import { numberArg } from './draw-command.ts';

const FILTERS = {
  queue: { type: 'string' },
  code: { type: 'string' },
  batch: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const;

const USAGE =
  'usage: atelier dlq list [--queue Q --code C --batch B --since T --until T --limit N --offset N --json]\n' +
  '       atelier dlq replay <id> | --all-matching [filters] [--all]\n' +
  '       atelier dlq purge <id> | --all-matching [filters] [--all]\n' +
  '--all-matching without a filter needs --all (every dead letter).';

/** `dlq list | replay | purge`. */
export async function dlqCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return list(rest, io);
  if (sub === 'replay' || sub === 'purge') return act(sub, rest, io);
  throw new UsageError(USAGE);
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...FILTERS,
      limit: { type: 'string', default: '50' },
      offset: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
    },
  });
  const filter = toFilter(values);
  const page = {
    limit: numberArg(values.limit, '--limit'),
    offset: numberArg(values.offset, '--offset'),
  };
  const env = await io.open();
  try {
    const result = await env.producer.listDeadLetters(filter, page);
    if (values.json) {
      printJson(io.stdout, result);
      return EXIT.ok;
    }
    for (const entry of result.items) {
      const when = new Date(entry.failedAt).toISOString();
      const task = entry.taskId ? ` taskId=${entry.taskId}` : '';
      io.stdout.write(
        `${entry.id}\t${entry.queue}\t${entry.code}\t${when}\t${entry.message}${task}\n`,
      );
    }
    io.stdout.write(`${result.items.length} shown of ${result.total}\n`);
    return EXIT.ok;
  } finally {
    await env.producer.close();
  }
}

async function act(action: 'replay' | 'purge', args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...FILTERS,
      'all-matching': { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
    },
  });
  const byFilter = values['all-matching'];
  const filter = toFilter(values);
  const hasFilter = Object.keys(filter).length > 0;
  if (byFilter ? positionals.length > 0 : positionals.length !== 1 || hasFilter || values.all) {
    throw new UsageError(USAGE);
  }
  // Like the API's `"all": true`: acting on every dead letter is never the default.
  if (byFilter && !hasFilter && !values.all) {
    throw new UsageError(
      `dlq ${action} --all-matching without a filter would ${action} every dead letter: ` +
        'add --all to mean that, or filter with --queue, --code, --batch, --since or --until',
    );
  }
  const env = await io.open();
  try {
    const { producer } = env;
    if (!byFilter) {
      const id = positionals[0] as string;
      if (action === 'replay') await producer.replayDeadLetter(id);
      else await producer.deleteDeadLetter(id);
      io.stdout.write(`${action === 'replay' ? 'replayed' : 'purged'} ${id}\n`);
      return EXIT.ok;
    }
    const count =
      action === 'replay'
        ? await producer.replayDeadLetters(filter)
        : await producer.purgeDeadLetters(filter);
    io.stdout.write(`${action === 'replay' ? 'replayed' : 'purged'} ${count}\n`);
    return EXIT.ok;
  } finally {
    await env.producer.close();
  }
}

function toFilter(values: Partial<Record<keyof typeof FILTERS, string>>): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (values.queue !== undefined) filter.queue = values.queue;
  if (values.code !== undefined) filter.code = values.code;
  if (values.batch !== undefined) filter.batchId = values.batch;
  if (values.since !== undefined) filter.since = timeArg(values.since, '--since');
  if (values.until !== undefined) filter.until = timeArg(values.until, '--until');
  return filter;
}

function timeArg(value: string, flag: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} takes epoch milliseconds or an ISO-8601 date, got "${value}"`);
  return ms;
}
