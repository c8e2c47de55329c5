import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SIMULATOR = fileURLToPath(
  new URL('../../packages/simulator/src/bin/simulator.ts', import.meta.url),
);

export interface SimulatorProcess {
  child: ChildProcess;
  drawing: { baseUrl: string; submitPath: string; queryPath: string };
  cme: { loginUrl: string; apiBaseUrl: string; platform: string };
  stop(): Promise<void>;
}

/** Both provider fakes in their own process (as a real provider would be), on free ports. */
export async function startSimulatorProcess(
  env: Record<string, string> = {},
): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [SIMULATOR], {
    env: { ...process.env, SIMULATOR_DRAWING_PORT: '0', SIMULATOR_CME_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const info = JSON.parse(line) as Pick<SimulatorProcess, 'drawing' | 'cme'>;
  return {
    child,
    ...info,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
