import { CairnError, warn } from '../errors';
import type { Kv } from '../types';

// Delivery to POST /v1/collect. Every event is written to the outbox (Kv key `o`, shared by the
// tabs) before it is sent, and leaves it only once the server acknowledged it (or refused it with
// a 4xx other than 429, which would fail forever). One tab sends at a time (Web Locks); without Web
// Locks every tab sends, and the server's dedupe by event id keeps that exact.

export interface Ev {
  id: string;
  type: string;
  at: number;
  [k: string]: unknown;
}

/** Events in send order; `d` counts the oldest dropped because the outbox was full. */
export interface Outbox {
  e: Ev[];
  d: number;
}

export const OUTBOX_KEY = 'o';
export const OUTBOX_CAP = 500;
export const BATCH = 20;

export interface Sender {
  add(e: Ev): Promise<void>;
  /** Sends what the outbox holds. Never rejects. */
  flush(): Promise<unknown>;
  /** On page hide: this tab's unacknowledged events by sendBeacon. They stay in the outbox (the server dedupes). */
  beacon(): void;
  /** Forgets this tab's unsent events (reset, denied consent). */
  clear(): void;
}

/**
 * `url()` is the collect URL, or null while sending is not allowed; `body` wraps a batch; `got`
 * receives an accepted batch's answer; `token()` is the device token. Beacons go only for a device
 * that has its token (a beacon's answer, which would carry it, is lost) and is not linked to a user
 * (a linked device must show its token, and a beacon cannot send headers).
 */
export function createSender(
  kv: Kv,
  url: () => string | null,
  body: (e: Ev[]) => unknown,
  got: (r: { deviceToken?: string }) => void,
  token: () => string | undefined,
  beaconOk: () => unknown,
): Sender {
  /** This tab's events not yet acknowledged nor beaconed. */
  let mine: Ev[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fails = 0;
  let until = 0;
  let busy: Promise<unknown> | undefined;

  const later = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => ((timer = undefined), (until = 0), flush()), ms);
  };

  const run = async () => {
    for (let o: Outbox | undefined, u; (o = await kv.get<Outbox>(OUTBOX_KEY))?.e.length && (u = url()); ) {
      const b = o.e.slice(0, BATCH);
      const s = JSON.stringify(body(b));
      const t = token();
      let r: Response | undefined;
      try {
        // keepalive lets a batch finish after the page is gone (up to 64 KB); the timeout keeps
        // a hanging request from holding the send lock, and so every tab's sending, forever.
        r = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...(t && { authorization: 'Bearer ' + t }) }, body: s, keepalive: s.length < 6e4, signal: AbortSignal.timeout?.(3e4) });
      } catch {}
      const st = r ? r.status : 0;
      if (!st || st > 499 || st == 429) {
        // Exponential backoff with jitter, or the server's Retry-After (seconds).
        const ms = +r?.headers.get('retry-after')! * 1e3 || Math.min(6e4, 1e3 * 2 ** fails++) * (0.5 + Math.random());
        until = Date.now() + ms;
        return later(ms);
      }
      fails = 0;
      st < 300 ? got(await r!.json().catch(() => ({}))) : warn(new CairnError('http', `collect: ${st}, ${b.length} events dropped`, st));
      const ids = new Set(b.map((e) => e.id));
      const left = (e: Ev) => !ids.has(e.id);
      mine = mine.filter(left);
      await kv.update<Outbox | undefined>(OUTBOX_KEY, (o) => o && { ...o, e: o.e.filter(left) });
    }
  };

  const flush = (): Promise<unknown> => {
    const locks = navigator.locks;
    if (!busy && url() && Date.now() >= until)
      busy = (locks ? (locks.request('cairn-send', { ifAvailable: true }, (l) => l && run()) as Promise<unknown>) : run())
        .catch(warn)
        .finally(() => (busy = undefined));
    return busy || Promise.resolve();
  };

  return {
    async add(e) {
      mine.push(e);
      const o = await kv.update<Outbox>(OUTBOX_KEY, (o = { e: [], d: 0 }) => {
        const over = o.e.push(e) - OUTBOX_CAP;
        if (over > 0) (o.d += over), o.e.splice(0, over);
        return o;
      });
      o.e.length < BATCH ? timer || later(2e3) : flush();
    },
    flush,
    beacon() {
      const u = url();
      if (u && beaconOk())
        // A string goes as text/plain: no CORS preflight, which a beacon cannot make. The events
        // stay in the outbox until a fetch is acknowledged (the server dedupes by id).
        for (let b; (b = mine.slice(0, BATCH)).length && navigator.sendBeacon?.(u, JSON.stringify(body(b))); ) mine = mine.slice(BATCH);
    },
    clear() {
      mine = [];
    },
  };
}
