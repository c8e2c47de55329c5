import { AtelierError } from './atelier-error.ts';

/** A missing or invalid configuration value. The message names the variable and the rule. */
export class ConfigError extends AtelierError {
  override name = 'ConfigError';
  readonly variable: string;

  constructor(variable: string, rule: string) {
    super(`${variable}: ${rule}`, { code: 'CONFIG_INVALID', details: { variable } });
    this.variable = variable;
  }
}
