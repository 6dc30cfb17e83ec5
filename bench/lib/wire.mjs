// Bytes on the wire: one first visit with CDP's Network domain on, recording for each response what
// Chromium asked for (its Accept-Encoding, as sent), the coding the server chose, the encoded body
// (what crossed the network, headers aside), the decoded body, and the whole transfer with headers.
import { loadOnce } from './browser.mjs';

const header = (headers, name) => {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return String(v);
  return null;
};

/**
 * One load of `url`; resolves to `{ resources }`: every response whose URL `pick(url)` names (a key,
 * or null to skip), in request order.
 * @param {import('@playwright/test').Browser} browser @param {string} url @param {(url: string) => string | null} pick
 */
export async function wireLoad(browser, url, pick, { settleMs = 1500 } = {}) {
  return loadOnce(browser, {
    url,
    prepare: async (_page, cdp) => {
      const reqs = new Map();
      const get = (id) => reqs.get(id) ?? reqs.set(id, { id, decoded: 0 }).get(id);
      cdp.on('Network.requestWillBeSent', (e) =>
        Object.assign(get(e.requestId), { url: e.request.url, at: e.timestamp }),
      );
      cdp.on('Network.requestWillBeSentExtraInfo', (e) => (get(e.requestId).sentHeaders = e.headers));
      cdp.on('Network.responseReceived', (e) =>
        Object.assign(get(e.requestId), {
          status: e.response.status,
          headers: e.response.headers,
          headerBytes: e.response.encodedDataLength,
        }),
      );
      cdp.on('Network.dataReceived', (e) => (get(e.requestId).decoded += e.dataLength));
      cdp.on('Network.loadingFinished', (e) => (get(e.requestId).transfer = e.encodedDataLength));
      cdp.on('Network.loadingFailed', (e) => (get(e.requestId).failed = e.errorText));
      await cdp.send('Network.enable');
      return reqs;
    },
    settle: (page) => page.waitForTimeout(settleMs),
    collect: async (_page, _cdp, reqs) => ({ resources: wireResources([...reqs.values()], pick) }),
  });
}

/**
 * The picked responses' sizes. The encoded body is the response's Content-Length when it has one
 * (the servers here always send it), else the transfer less the header bytes.
 * @param {{ url?: string, at?: number, sentHeaders?: object, status?: number, headers?: object, headerBytes?: number, decoded: number, transfer?: number, failed?: string }[]} reqs
 */
export function wireResources(reqs, pick) {
  return reqs
    .filter((r) => r.url && pick(r.url))
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((r) => {
      const length = Number(header(r.headers, 'content-length'));
      const encoded =
        Number.isFinite(length) && header(r.headers, 'content-length') !== null
          ? length
          : Number.isFinite(r.transfer) && Number.isFinite(r.headerBytes)
            ? r.transfer - r.headerBytes
            : NaN;
      return {
        key: pick(r.url),
        path: new URL(r.url).pathname + new URL(r.url).search,
        status: r.status ?? null,
        acceptEncoding: header(r.sentHeaders, 'accept-encoding'),
        coding: header(r.headers, 'content-encoding') ?? 'identity',
        encoded,
        decoded: r.decoded,
        transfer: r.transfer ?? NaN,
        failed: r.failed ?? null,
      };
    });
}
