/** `@atelier/producer/cli`: the `atelier` command line (`pnpm atelier help`). */
export {
  type CliEnvironment,
  openCliEnvironment,
  STACK_FILE,
  type StackFile,
} from './cli-environment.ts';
export { type CliIo, EXIT } from './cli-io.ts';
export { runCli } from './run-cli.ts';
