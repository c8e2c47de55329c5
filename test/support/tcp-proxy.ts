import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that can stall every connection through it, for failure tests: put
 * it between a worker and Redis, and the worker is cut off (its lock lapses, its writes wait)
 * while its work goes on. `stall()`: nothing errors, but no byte goes through in either
 * direction until `restore()` delivers everything held, in order (a partition that heals:
 * commands hang, then land late).
 */
export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: { port: number; host: string };
  readonly #links = new Set<{ client: Socket; upstream: Socket }>();
  /** Bytes held by the current stall, each with the socket it is for. */
  readonly #held: Array<{ to: Socket; chunk: Buffer; fromClient: boolean }> = [];
  #stalled = false;
  #stallWhen: ((clientBytes: string) => boolean) | undefined;

  private constructor(server: Server, target: { port: number; host: string }) {
    this.#server = server;
    this.#target = target;
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  static async start(target: { port: number; host?: string }): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const proxy = new TcpProxy(server, { port: target.port, host: target.host ?? '127.0.0.1' });
    server.on('connection', (client) => proxy.#accept(client));
    return proxy;
  }

  /** `redis://127.0.0.1:<port>` for a Redis target. */
  get redisUrl(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  stall(): void {
    this.#stalled = true;
  }

  /**
   * Stalls at the first chunk a client sends that `match` accepts (read as latin1): that chunk
   * is held with everything after it, as if the process were cut off just before sending it.
   */
  stallWhen(match: (clientBytes: string) => boolean): void {
    this.#stallWhen = match;
  }

  /** Whether the proxy is holding traffic. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** Ends the stall: what it held is delivered, in order. */
  restore(): void {
    this.#stalled = false;
    for (const { to, chunk } of this.#held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  /** What the clients sent during the current stall (held, not delivered yet), as text. */
  heldFromClients(): string {
    return Buffer.concat(this.#held.filter((h) => h.fromClient).map((h) => h.chunk)).toString(
      'latin1',
    );
  }

  async close(): Promise<void> {
    this.#held.length = 0;
    for (const { client, upstream } of this.#links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const upstream = connect({ port: this.#target.port, host: this.#target.host, noDelay: true });
    const link = { client, upstream };
    this.#links.add(link);
    this.#pipe(client, upstream, true);
    this.#pipe(upstream, client, false);
    const close = () => {
      this.#links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
  }

  #pipe(from: Socket, to: Socket, fromClient: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (!this.#stalled && fromClient && this.#stallWhen?.(chunk.toString('latin1'))) {
        this.#stallWhen = undefined;
        this.#stalled = true;
      }
      if (this.#stalled) this.#held.push({ to, chunk, fromClient });
      else to.write(chunk);
    });
    from.on('error', () => undefined);
  }
}
