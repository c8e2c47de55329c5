import { openCliEnvironment, runCli } from '../cli/index.ts';

/** `pnpm atelier <command>`: see `atelier help`. */
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  open: () => openCliEnvironment(process.env),
  pollIntervalMs: 500,
});
process.exitCode = code;
