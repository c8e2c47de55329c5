import type { RedisClient } from '@atelier/store';

type SendCommand = RedisClient['sendCommand'];
type Command = Parameters<SendCommand>[0];

export interface CutCommand {
  /** The name of the command that was cut (undefined: none named the key). */
  readonly cut: string | undefined;
  /** Puts the connection back as it was. */
  restore(): void;
}

/**
 * Cuts one command, as a connection dropped at that instant would (or a process dying between
 * two writes, as Redis sees it): the first command `redis` would send that names `key` is not
 * sent and fails with "Connection is closed."; every other command goes through.
 */
export function cutCommand(redis: RedisClient, key: string): CutCommand {
  const original = redis.sendCommand;
  let cut: string | undefined;
  const hooked = function (this: RedisClient, command: Command, ...rest: unknown[]) {
    if (cut === undefined && command.args.some((arg) => String(arg) === key)) {
      cut = command.name;
      command.reject(new Error('Connection is closed.'));
      return command.promise;
    }
    return (original as (...args: unknown[]) => unknown).call(this, command, ...rest);
  };
  redis.sendCommand = hooked as SendCommand;
  return {
    get cut() {
      return cut;
    },
    restore() {
      redis.sendCommand = original;
    },
  };
}
