import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How a cut looks to the two ends:
 * - `reset`: every connection is reset, and so is every new one until `restore()` (a crashed
 *   load balancer, a failover): clients see errors and reconnect, queuing their commands.
 * - `stall`: nothing errors, but no byte goes through in either direction, on open or new
 *   connections, until `restore()` delivers everything held, in order (a partition that heals:
 *   commands hang, then land late).
 */
export type CutMode = 'reset' | 'stall';

export interface TcpProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Port to listen on (127.0.0.1); default: a free one. */
  port?: number;
}

interface Held {
  to: Socket;
  chunk: Buffer;
}

/** One client connection and its connection to the target. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** Bytes stopped by a stall, in arrival order. */
  held: Held[];
  /** An end closed while stalled: the other end learns of it only after the held bytes. */
  closedWhileStalled: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 that can cut every connection through it on command, for chaos
 * runs and failure tests (e.g. a worker's Redis connections, to make it lose its job locks
 * while its work goes on).
 */
export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: { port: number; host: string };
  readonly #links = new Set<Link>();
  #mode: CutMode | undefined;
  #heldBytes = 0;
  #accepted = 0;

  private constructor(server: Server, target: { port: number; host: string }) {
    this.#server = server;
    this.#target = target;
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const proxy = new TcpProxy(server, {
      port: options.targetPort,
      host: options.targetHost ?? '127.0.0.1',
    });
    server.on('connection', (client) => proxy.#accept(client));
    return proxy;
  }

  /** The current cut, if any. */
  get cutMode(): CutMode | undefined {
    return this.#mode;
  }

  /** Client connections currently open through the proxy. */
  get connections(): number {
    return this.#links.size;
  }

  /** Connections accepted since start (including those reset at once during a cut). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Bytes held by the current stall, not yet delivered. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  cut(mode: CutMode): void {
    if (this.#mode !== undefined) throw new Error(`the proxy is already cut (${this.#mode})`);
    this.#mode = mode;
    if (mode === 'reset') for (const link of [...this.#links]) this.#reset(link);
  }

  /** Ends the cut: a stall delivers what it held (then any close it held back). */
  restore(): void {
    const mode = this.#mode;
    this.#mode = undefined;
    if (mode !== 'stall') return;
    for (const link of [...this.#links]) {
      for (const { to, chunk } of link.held.splice(0)) if (!to.destroyed) to.write(chunk);
      if (link.closedWhileStalled) this.#close(link);
    }
    this.#heldBytes = 0;
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const link of [...this.#links]) this.#close(link);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#accepted++;
    if (this.#mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: this.#target.port, host: this.#target.host, noDelay: true });
    const link: Link = { client, upstream, held: [], closedWhileStalled: false };
    this.#links.add(link);
    this.#pipe(link, client, upstream);
    this.#pipe(link, upstream, client);
  }

  #pipe(link: Link, from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.#mode === 'stall') {
        link.held.push({ to, chunk });
        this.#heldBytes += chunk.length;
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('error', () => undefined);
    from.on('close', () => {
      if (this.#mode === 'stall') link.closedWhileStalled = true;
      else this.#close(link);
    });
  }

  #reset(link: Link): void {
    this.#links.delete(link);
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  }

  #close(link: Link): void {
    this.#links.delete(link);
    for (const { chunk } of link.held.splice(0)) this.#heldBytes -= chunk.length;
    link.client.destroy();
    link.upstream.destroy();
  }
}
