import { AtelierError, ValidationError } from '@atelier/shared';
import { type CliIo, EXIT } from './cli-io.ts';
import { batchCommand } from './commands/batch-command.ts';
import { dlqCommand } from './commands/dlq-command.ts';
import { drawCommand } from './commands/draw-command.ts';
import { jobCommand } from './commands/job-command.ts';
import { UsageError } from './usage-error.ts';

export const USAGE = `Atelier CLI — talks to Redis directly (REDIS_URL, or .data/stack.json written by \`pnpm start\`)

  atelier draw "<text>" [--style S] [--resolution R] [--num N] [--priority P]
                        [--idempotency-key K] [--callback-url U] [--wait] [--timeout SEC]
  atelier batch submit <file.csv|file.jsonl> [--wait] [--out results.jsonl]
                        [--priority P] [--idempotency-key K] [--callback-url U]
  atelier batch status <id>
  atelier batch download <id> --dir <folder> [--parallel N]
  atelier batch cancel|pause|resume <id>
  atelier job <id>
  atelier dlq list [--queue Q] [--code C] [--batch B] [--since T] [--until T] [--limit N] [--offset N] [--json]
  atelier dlq replay <id> | --all-matching [--queue Q --code C --batch B --since T --until T] [--all]
  atelier dlq purge <id>  | --all-matching [filters] [--all]

--all-matching without a filter needs --all: it then acts on every dead letter.

CSV files have the header text,style,resolution,num; JSONL files hold one drawing request per line.
Exit codes: 0 ok, 1 failure (including a --wait that ends dead), 2 usage.
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  draw: drawCommand,
  batch: batchCommand,
  job: jobCommand,
  dlq: dlqCommand,
};

/** Runs one command line; returns the exit code (errors are printed, never thrown). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout).write(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`unknown command "${name}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await command(args, io);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): number {
  const code = (error as { code?: unknown }).code;
  if (
    error instanceof UsageError ||
    (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  ) {
    io.stderr.write(`${(error as Error).message}\n(atelier help shows every command)\n`);
    return EXIT.usage;
  }
  if (error instanceof ValidationError) {
    for (const issue of error.issues) io.stderr.write(`${issue.message}\n`);
    const shown = error.issues.length;
    io.stderr.write(
      `invalid input (${shown} problem${shown === 1 ? '' : 's'} shown); nothing was queued\n`,
    );
    return EXIT.failure;
  }
  if (error instanceof AtelierError) {
    io.stderr.write(`${error.code}: ${error.message}\n`);
    return EXIT.failure;
  }
  io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failure;
}
