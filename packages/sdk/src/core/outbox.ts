import { type CairnError, warn } from '../errors.js';
import { spill } from '../state/spill.js';
import type { CairnEvent, CollectResponse, Kv } from '../types.js';
import { arr } from '../util/arr.js';
import type { Device } from './device.js';
import type { Transport } from './transport.js';

// Delivery to POST /v1/collect. Every event is written to the outbox, shared by the tabs, before it
// is sent, and leaves it only once the server acknowledged it (or refused it with a 4xx other than
// 429, which would fail forever). One tab sends at a time (Web Locks); without Web Locks every tab
// sends, and the server's dedupe by event id keeps that exact.

/** The outbox holds at most this many events; the oldest go first. */
export const OUTBOX_CAP = 500;
/** Events per request. */
const BATCH = 20;

/** The outbox in memory: events in send order, and how many of the oldest were dropped because it was full. */
export interface OutboxValue {
  _events: CairnEvent[];
  _dropped: number;
}

/** The stored format (Kv key `o`, pinned by test/stored-format.test.ts): `{ e: events, d: dropped }`. */
export const readOutbox = (stored: unknown): OutboxValue => {
  const value = stored as { e?: CairnEvent[]; d?: number } | undefined;
  return { _events: arr<CairnEvent>(value?.e), _dropped: value?.d || 0 };
};
export const writeOutbox = (outbox: OutboxValue) => ({ e: outbox._events, d: outbox._dropped });

/** Adds events not already there (by id) at the end; past the cap, the oldest are dropped and counted. */
export const addToOutbox = (stored: unknown, events: CairnEvent[]) => {
  const outbox = readOutbox(stored);
  const list = outbox._events;
  for (const event of events) if (!list.some((e) => e.id == event.id)) list.push(event);
  const over = list.length - OUTBOX_CAP;
  if (over > 0) (outbox._dropped += over), list.splice(0, over);
  return writeOutbox(outbox);
};

export interface Outbox {
  /** Stores events (to be sent); resolves to how many the outbox holds. */
  _add(events: CairnEvent[]): Promise<number>;
  /** Sends what the outbox holds, now. Never rejects. */
  _flush(): Promise<void>;
  /** Sends soon: at once when a batch is full, else within 2 s, so a burst goes in one request. */
  _soon(held: number): void;
  /** This tab's events not yet acknowledged: a page hide sends them by beacon and spills them. */
  _unsent: CairnEvent[];
  /** On page hide. */
  _pageHide(): void;
  /** This tab moved to another device, or wiped it: what it held unsent or unstored was the old one's. */
  _forget(): void;
}

export function createOutbox(site: string, kv: Kv, device: Device, transport: Transport): Outbox {
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let failures = 0;
  /** No sending before this time (a backoff). */
  let until = 0;
  let busy: Promise<unknown> | 0 = 0;
  /** Events whose outbox write has not completed yet, and the last such write. */
  let unstored: CairnEvent[] = [];
  let written: Promise<unknown> = Promise.resolve();
  const body = (events: CairnEvent[], deviceToken?: string) => ({ site, deviceId: device._id, deviceToken, events });
  // Taken once: a timer may fire after the page (or a test's window) has let its globals go.
  const nav = navigator;
  const later = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => ((timer = until = 0), outbox._flush().catch(() => {})), ms);
  };

  const send = async () => {
    let oneByOne = 0;
    let renewed = 0;
    // The device and its token as other tabs left them, before the batch is read: following
    // another tab's (or subdomain's) device may have emptied the outbox of the old one's events.
    device._load();
    let events = readOutbox(await kv.get('o'))._events;
    for (let batch; (batch = events.slice(0, oneByOne ? 1 : BATCH))[0] && transport._usable(); ) {
      const id = device._id;
      try {
        const token = (await transport._request<CollectResponse | undefined>('collect', body(batch)))?.deviceToken;
        // Only for the device the batch went to: another tab may have moved to a new one meanwhile.
        device._update((state) => device._id == id && (state._token ||= token) && (state._tokenKnown = 1));
      } catch (e) {
        const { status, cause } = e as CairnError;
        if (!status || status > 499 || status == 429) {
          // Exponential backoff with jitter, or the server's Retry-After (seconds).
          const ms =
            +(cause as Response).headers?.get('retry-after')! * 1e3 ||
            Math.min(6e4, 1e3 * 2 ** failures++) * (0.5 + Math.random());
          until = Date.now() + ms;
          return later(ms);
        }
        // The server holds another token for this device (restored without its own): what is unsent
        // goes to a fresh device rather than being refused batch after batch.
        // Unless another tab moved to a new device meanwhile (a logout there revokes the old one).
        if (status == 401 && (device._load(), device._id == id) && !renewed++) {
          device._renew();
          device._load();
          continue;
        }
        // One event the server refuses (400, 413) must not take the others down: one at a time.
        if (batch[1] && (status == 400 || status == 413)) {
          oneByOne = 1;
          continue;
        }
        // Else it would fail forever: the batch is dropped.
        warn(e);
      }
      failures = 0;
      const left = (event: CairnEvent) => !batch.some((x) => x.id == event.id);
      outbox._unsent = outbox._unsent.filter(left);
      // What is left, as the latest stored outbox says (other tabs add to it too).
      events = readOutbox(
        await kv.update(
          'o',
          (stored) =>
            stored && writeOutbox({ ...readOutbox(stored), _events: readOutbox(stored)._events.filter(left) }),
        ),
      )._events;
      device._load();
      // Another tab moved to a new device (a logout there): what was read is the old one's, and never
      // goes out under the new one. The next flush reads afresh.
      if (device._id != id) return;
    }
    // All sent: a send waiting on the timer would only read an empty outbox.
    if (!events[0]) clearTimeout(timer), (timer = 0);
  };

  const outbox: Outbox = {
    _unsent: [],
    async _add(events) {
      outbox._unsent.push(...events);
      unstored.push(...events);
      const write = kv
        .update('o', (value) => addToOutbox(value, events))
        .finally(() => {
          unstored = unstored.filter((event) => !events.includes(event));
        });
      written = write.catch(() => {});
      return readOutbox(await write)._events.length;
    },
    _soon(held) {
      if (held >= BATCH) outbox._flush();
      else if (!timer) later(2e3);
    },
    async _flush() {
      // What was recorded before this call is sent by it.
      await written;
      const locks = nav.locks;
      // A lock request only ever rejects its Promise.
      if (!busy && transport._usable() && Date.now() >= until)
        busy = (locks ? locks.request('cairn-send', { ifAvailable: true }, (lock) => lock && send()) : send())
          .catch(warn)
          .finally(() => (busy = 0));
      await busy;
    },
    _forget() {
      outbox._unsent = [];
      unstored = [];
    },
    _pageHide() {
      if (!transport._usable()) return;
      // Stored synchronously: their outbox write is still in flight, and may never commit.
      spill(device._id, unstored);
      unstored = [];
      // A beacon carries the device token in its body (it cannot set headers), so even a first
      // page's events arrive: the server makes the device with that token; without one, none goes.
      // A string goes as text/plain: no CORS preflight. They stay in the outbox (the server dedupes).
      let unsent = outbox._unsent;
      while (
        unsent[0] &&
        device._state._token &&
        nav.sendBeacon?.(transport._url('collect'), JSON.stringify(body(unsent.slice(0, BATCH), device._state._token)))
      )
        unsent = unsent.slice(BATCH);
      outbox._unsent = unsent;
    },
  };
  return outbox;
}
