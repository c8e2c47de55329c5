import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How a cut looks to the two ends:
 * - `stall`: nothing errors, but no byte goes through in either direction, on open or new
 *   connections, until `restore()` delivers everything held, in order (a partition that heals:
 *   commands hang, then land late);
 * - `reset`: every connection is reset, and so is every new one until `restore()` (a crashed
 *   load balancer, a failover): clients see errors and reconnect, queuing their commands.
 */
export type CutMode = 'stall' | 'reset';

interface Held {
  to: Socket;
  chunk: Buffer;
  fromClient: boolean;
}

/** One client connection and its connection to the target. */
interface Link {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 that can cut every connection through it, for failure tests and
 * the chaos suite: put it between a worker and Redis, and the worker is cut off (its lock
 * lapses, its writes wait) while its work goes on. A connection that closes while stalled is
 * dropped with what it had held.
 */
export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: { port: number; host: string };
  readonly #links = new Set<Link>();
  /** Bytes held by the current stall, in arrival order. */
  readonly #held: Held[] = [];
  #mode: CutMode | undefined;
  #accepted = 0;
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

  /** The current cut, if any. */
  get cutMode(): CutMode | undefined {
    return this.#mode;
  }

  /** Client connections open through the proxy. */
  get connections(): number {
    return this.#links.size;
  }

  /** Connections accepted since start (those reset at once during a cut included). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Bytes held by the current stall, not delivered yet. */
  get heldBytes(): number {
    return this.#held.reduce((total, h) => total + h.chunk.length, 0);
  }

  stall(): void {
    this.#cut('stall');
  }

  reset(): void {
    this.#cut('reset');
    for (const link of [...this.#links]) {
      this.#drop(link);
      link.client.resetAndDestroy();
      link.upstream.resetAndDestroy();
    }
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
    return this.#mode === 'stall';
  }

  /** Ends the cut: what a stall held is delivered, in order. */
  restore(): void {
    this.#mode = undefined;
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
    for (const link of [...this.#links]) {
      this.#drop(link);
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #cut(mode: CutMode): void {
    if (this.#mode !== undefined) throw new Error(`the proxy is already cut (${this.#mode})`);
    this.#mode = mode;
  }

  #accept(client: Socket): void {
    this.#accepted++;
    if (this.#mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: this.#target.port, host: this.#target.host, noDelay: true });
    const link = { client, upstream };
    this.#links.add(link);
    this.#pipe(client, upstream, true);
    this.#pipe(upstream, client, false);
    const close = () => {
      this.#drop(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
  }

  /** Forgets a link and whatever its stall held. */
  #drop(link: Link): void {
    this.#links.delete(link);
    for (let i = this.#held.length - 1; i >= 0; i--) {
      const to = this.#held[i]?.to;
      if (to === link.client || to === link.upstream) this.#held.splice(i, 1);
    }
  }

  #pipe(from: Socket, to: Socket, fromClient: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (this.#mode === undefined && fromClient && this.#stallWhen?.(chunk.toString('latin1'))) {
        this.#stallWhen = undefined;
        this.#cut('stall');
      }
      if (this.#mode === 'stall') {
        this.#held.push({ to, chunk, fromClient });
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('error', () => undefined);
  }
}
