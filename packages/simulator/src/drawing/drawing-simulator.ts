import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DrawingProvider } from './drawing-provider.ts';
import {
  type DrawingSimulatorOptions,
  type ResolvedDrawingSimulatorOptions,
  resolveDrawingSimulatorOptions,
} from './drawing-simulator-options.ts';

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The drawing provider fake on its own `node:http` server. Start with
 * `await DrawingSimulator.start(options)`; `close()` ends keep-alive sockets at once.
 */
export class DrawingSimulator extends DrawingProvider {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly #server: Server;
  #closed: Promise<void> | undefined;

  private constructor(server: Server, options: ResolvedDrawingSimulatorOptions) {
    super(options);
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://${urlHost(options.host)}:${this.port}`;
  }

  static async start(options: DrawingSimulatorOptions = {}): Promise<DrawingSimulator> {
    const resolved = resolveDrawingSimulatorOptions(options);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const simulator = new DrawingSimulator(server, resolved);
    server.on('request', simulator.handle);
    return simulator;
  }

  get submitUrl(): string {
    return `${this.url}${this.submitPath}`;
  }

  get queryUrl(): string {
    return `${this.url}${this.queryPath}`;
  }

  /** Stops listening, drops delayed answers and destroys every open (keep-alive) socket. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve, reject) => {
      this.cancelPendingAnswers();
      this.#server.close((error) => (error ? reject(error) : resolve()));
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }
}
