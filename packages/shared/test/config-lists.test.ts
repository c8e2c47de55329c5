import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader, loadConfig } from '../src/index.ts';

/** The ConfigError loading `env` throws (fails the test when it does not throw one). */
function refusal(env: Record<string, string>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('list and enum variables refuse what they do not know', () => {
  it.each([
    ['0', '"0"'],
    ['false', '"false"'],
    ['drawing,video', '"video"'],
    ['Drawing', '"Drawing"'],
  ])(
    'ATELIER_SIMULATOR=%s is refused, naming the variable, the member and the allowed ones',
    (value, member) => {
      const error = refusal({ ATELIER_SIMULATOR: value });
      expect(error.variable).toBe('ATELIER_SIMULATOR');
      expect(error.message).toContain('ATELIER_SIMULATOR');
      expect(error.message).toContain(member);
      expect(error.message).toContain('drawing, cme');
    },
  );

  it('ATELIER_SIMULATOR takes drawing and cme, and blank means none', () => {
    expect(loadConfig({ ATELIER_SIMULATOR: 'drawing, cme' }).simulated).toEqual(['drawing', 'cme']);
    expect(loadConfig({ ATELIER_SIMULATOR: 'cme' }).simulated).toEqual(['cme']);
    expect(loadConfig({ ATELIER_SIMULATOR: '' }).simulated).toEqual([]);
    expect(loadConfig({}).simulated).toEqual([]);
  });

  it.each([
    ['ATELIER_SIMULATOR', 'drawing,drawing'],
    ['ATELIER_WORKER_QUEUES', 'cme,callbacks,cme'],
    ['DRAWING_STYLES', '油画,古风,油画'],
    ['DRAWING_RESOLUTIONS', '1024*1024,1024*1024'],
  ])('%s=%s lists a member twice: refused', (variable, value) => {
    const error = refusal({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain('twice');
  });

  it('ATELIER_WORKER_QUEUES set to nothing but commas runs no queue: refused', () => {
    const error = refusal({ ATELIER_WORKER_QUEUES: ' , ' });
    expect(error.variable).toBe('ATELIER_WORKER_QUEUES');
    expect(error.message).toContain('at least one of drawing, cme, callbacks');
  });

  it.each(['1024x1024', '1024*', '*1024', 'big', '0*1024'])(
    'DRAWING_RESOLUTIONS member %s is not <width>*<height>: refused',
    (member) => {
      const error = refusal({ DRAWING_RESOLUTIONS: `1024*1024,${member}` });
      expect(error.variable).toBe('DRAWING_RESOLUTIONS');
      expect(error.message).toContain(`"${member}"`);
      expect(error.message).toContain('<width>*<height>');
    },
  );

  it('an API key with whitespace inside can never match a Bearer header: refused without echoing it', () => {
    const error = refusal({ ATELIER_API_KEYS: 'good-key-0001, bad key-0002' });
    expect(error.variable).toBe('ATELIER_API_KEYS');
    expect(error.message).toContain('key 2');
    expect(error.message).not.toContain('bad key-0002');
    expect(error.message).not.toContain('good-key-0001');
  });

  it('an API key listed twice is refused without echoing it', () => {
    const error = refusal({ ATELIER_API_KEYS: 'same-key-0001,other-key-0002,same-key-0001' });
    expect(error.variable).toBe('ATELIER_API_KEYS');
    expect(error.message).toContain('key 3');
    expect(error.message).not.toContain('same-key-0001');
  });

  it.each(['localhost:6379', 'http://127.0.0.1:6379', 'redsi://127.0.0.1:6379'])(
    'REDIS_URL=%s is not a Redis URL: refused',
    (url) => {
      const error = refusal({ REDIS_URL: url });
      expect(error.variable).toBe('REDIS_URL');
      expect(error.message).toContain('redis:// | rediss:// | redis-cluster://');
    },
  );

  it('REDIS_URL accepts its three schemes', () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'rediss://:pw@cache.example.com:6380/2',
      'redis-cluster://10.0.0.1:7000,10.0.0.2:7000',
    ]) {
      expect(loadConfig({ REDIS_URL: url, ATELIER_QUEUE_PREFIX: '{atelier}' }).redisUrl).toBe(url);
    }
  });

  it('a REDIS_URL with a password is refused without echoing it', () => {
    const error = refusal({ REDIS_URL: 'redsi://:hunter2-password@cache:6379' });
    expect(error.message).not.toContain('hunter2-password');
  });

  it.each([
    ['LOG_LEVEL', 'verbose'],
    ['LOG_LEVEL', 'INFO'],
    ['DRAWING_AUTH_MODE', 'APIG'],
    ['ATELIER_CALLBACK_ALLOW_PRIVATE', 'sometimes'],
  ])('%s=%s (an enum) is refused naming the variable', (variable, value) => {
    const error = refusal({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(`"${value}"`);
  });
});

describe('EnvReader.members', () => {
  const allowed = ['a', 'b', 'c'] as const;

  it('reads the listed members, in order, trimmed; unset gives the fallback', () => {
    const reader = new EnvReader({ X: ' c , a ' });
    expect(reader.members('X', allowed)).toEqual(['c', 'a']);
    expect(reader.members('UNSET', allowed, { fallback: ['b'] })).toEqual(['b']);
  });

  it('refuses an unknown member, a repeated one, and (when asked) an empty list', () => {
    expect(() => new EnvReader({ X: 'a,z' }).members('X', allowed)).toThrow(
      'X: must list only a, b, c, got "z"',
    );
    expect(() => new EnvReader({ X: 'a,b,a' }).members('X', allowed)).toThrow('X: lists "a" twice');
    expect(() => new EnvReader({ X: ',' }).members('X', allowed, { nonEmpty: true })).toThrow(
      'X: must list at least one of a, b, c',
    );
    expect(new EnvReader({ X: ',' }).members('X', allowed)).toEqual([]);
  });
});
