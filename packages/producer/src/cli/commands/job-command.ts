import { type CliIo, EXIT, printJson } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';

/** `job <id>`: the job's status as JSON. */
export async function jobCommand(args: string[], io: CliIo): Promise<number> {
  const [id, ...rest] = args;
  if (id === undefined || id.startsWith('-') || rest.length > 0)
    throw new UsageError('usage: atelier job <id>');
  const env = await io.open();
  try {
    printJson(io.stdout, await env.producer.getJob(id));
    return EXIT.ok;
  } finally {
    await env.producer.close();
  }
}
