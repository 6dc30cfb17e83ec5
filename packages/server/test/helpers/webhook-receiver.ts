// A real webhook receiver on 127.0.0.1 for the delivery suites: records every request (headers and
// raw body) and answers what the test's `respond` says: a status and headers, or a hold.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  key: string;
}

/** What to answer: a status (and headers), or 'hold' (never answer: a timeout or a kill mid-delivery). */
export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number } | 'hold';

export interface Receiver {
  url: string;
  received: Received[];
  /** The keys processed, each once, as a receiver that honours Idempotency-Key does. */
  processed: Set<string>;
  /** The most requests of one key that were open at the same time. */
  maxConcurrentPerKey: number;
  /** Resolves when `n` requests have arrived. */
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(respond: (r: Received, nth: number) => Answer): Promise<Receiver> {
  const received: Received[] = [];
  const processed = new Set<string>();
  const open = new Map<string, number>();
  const held: ServerResponse[] = [];
  const waiters: { n: number; ok: () => void }[] = [];
  let maxConcurrentPerKey = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), key };
      received.push(r);
      open.set(key, (open.get(key) ?? 0) + 1);
      maxConcurrentPerKey = Math.max(maxConcurrentPerKey, open.get(key) ?? 0);
      res.once('close', () => open.set(key, (open.get(key) ?? 1) - 1));
      const nth = received.filter((x) => x.key === key).length;
      // Processed on arrival, once per key: a later attempt of the same key is acknowledged, not redone.
      processed.add(key);
      for (const w of waiters.splice(0))
        if (received.length >= w.n) w.ok();
        else waiters.push(w);
      const a = respond(r, nth);
      if (a === 'hold') {
        held.push(res);
        return;
      }
      const send = () => {
        res.writeHead(a.status, a.headers ?? {});
        res.end('ok');
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    processed,
    get maxConcurrentPerKey() {
      return maxConcurrentPerKey;
    },
    waitFor: (n) =>
      new Promise<void>((ok) => {
        if (received.length >= n) ok();
        else waiters.push({ n, ok });
      }),
    close: () =>
      new Promise<void>((ok) => {
        for (const res of held) res.destroy();
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
