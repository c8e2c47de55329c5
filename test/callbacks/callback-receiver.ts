import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallbackVerification, verifyCallback } from '@atelier/shared';

/** A scripted answer: a status (with headers), or a reset connection. */
export type ScriptedAnswer = { status: number; headers?: Record<string, string> } | 'reset';

export interface ReceivedRequest {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  verification: CallbackVerification;
  /** What the receiver did with it. */
  outcome: 'rejected' | 'scripted' | 'accepted' | 'duplicate';
}

export interface CallbackReceiver {
  url: string;
  port: number;
  /** Every request that reached the handler, in order. */
  requests: ReceivedRequest[];
  /** Deliveries processed (verified, first time seen). */
  accepted: ReceivedRequest[];
  /** TCP connections opened to the receiver. */
  connections: number;
  /** Shifts the receiver's clock (replay tests). */
  clockOffsetMs: number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  secret: string;
  /** Answers for the first verified requests, in order; afterwards 2xx. */
  script?: ScriptedAnswer[];
}

/**
 * A webhook receiver on 127.0.0.1 written the way the README tells users to: verify the raw
 * body with `verifyCallback` (401 when it fails), then de-duplicate on the delivery id
 * (answer 200 to a repeat without processing it again).
 */
export async function startCallbackReceiver(options: ReceiverOptions): Promise<CallbackReceiver> {
  const script = [...(options.script ?? [])];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verification = verifyCallback({
        secret: options.secret,
        headers: req.headers,
        body,
        now: Date.now() + receiver.clockOffsetMs,
      });
      const record = (outcome: ReceivedRequest['outcome']): ReceivedRequest => {
        const entry = { at: Date.now(), headers: req.headers, body, verification, outcome };
        receiver.requests.push(entry);
        return entry;
      };
      if (!verification.ok) {
        record('rejected');
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: verification.reason }));
        return;
      }
      const answer = script.shift();
      if (answer === 'reset') {
        record('scripted');
        req.socket.destroy();
        return;
      }
      if (answer !== undefined) {
        record('scripted');
        res.writeHead(answer.status, answer.headers);
        res.end('scripted');
        return;
      }
      if (seen.has(verification.deliveryId)) {
        record('duplicate');
        res.writeHead(200);
        res.end('duplicate ignored');
        return;
      }
      seen.add(verification.deliveryId);
      receiver.accepted.push(record('accepted'));
      res.writeHead(204);
      res.end();
    });
  });
  server.on('connection', () => {
    receiver.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: CallbackReceiver = {
    url: `http://127.0.0.1:${port}/hooks/atelier`,
    port,
    requests: [],
    accepted: [],
    connections: 0,
    clockOffsetMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** Re-sends a captured request byte for byte, as an attacker who recorded it would. */
export async function replay(url: string, request: ReceivedRequest): Promise<number> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if ((name.startsWith('x-atelier-') || name === 'content-type') && typeof value === 'string') {
      headers[name] = value;
    }
  }
  const response = await fetch(url, { method: 'POST', headers, body: request.body });
  await response.arrayBuffer();
  return response.status;
}
