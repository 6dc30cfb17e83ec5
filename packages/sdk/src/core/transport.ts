import { CairnError } from '../errors.js';
import type { Device } from './device.js';
import { apiUrl } from './options.js';

// Every request to the sync server: JSON, the device token as Bearer (the latest, maybe another
// tab's); collect's credentialed where the config turns the server cookie on. Resolves to the answer's JSON (undefined when it has none). Rejects with a CairnError:
// `network` (status 0), or the HTTP status with the Response as `cause`.

export interface Transport {
  /** The sync server is usable: there is one, a site, and consent (and no recovery under way). */
  _usable(): unknown;
  /** A recovery is under way (src/core/recover.ts): nothing is sent for the device meanwhile. */
  _held?: unknown;
  /** Expires the server-set cookie and unbinds it (a denial, a reset), where the config turns it on. Never rejects. */
  _forget(): void;
  _url(path: string): string;
  /** The Response of a request the server answered with a status under 400 (a 304 included). */
  _send(path: string, body?: object | 0, query?: string, headers?: Record<string, string>): Promise<Response>;
  /** The answer's JSON (undefined when it has none). */
  _request<T>(path: string, body?: object | 0, query?: string): Promise<T>;
}

export function createTransport(
  server: string,
  site: string,
  device: Device,
  granted: () => unknown,
  /** The site config turns the server-set cookie on (identity.serverCookie). */
  serverCookie: () => unknown,
): Transport {
  const transport: Transport = {
    _usable: () => !transport._held && granted() && server && site,
    _url: (path) => apiUrl(server, site, path),
    _forget: () =>
      serverCookie() &&
      server &&
      site &&
      fetch(transport._url('server-cookie'), { method: 'DELETE', credentials: 'include', keepalive: true }).catch(
        () => {},
      ),
    async _send(path, body, query = '', headers) {
      if (!transport._usable()) throw new CairnError(server ? 'consent' : 'no_server');
      const text = body ? JSON.stringify(body) : undefined;
      device._load();
      const token = device._state._token;
      // A write goes with the device's token or not at all: the server would refuse it (401), and
      // the caller moves to a fresh device, as on that refusal.
      if (text && !token && !headers) throw new CairnError('unauthorized', 401);
      let response: Response;
      try {
        // keepalive lets a request finish after the page is gone, up to 64 KB: 2e4 UTF-16 units are
        // at most 6e4 bytes. The timeout keeps a hanging request from holding the send lock (and so
        // every tab's sending) forever.
        response = await fetch(transport._url(path) + query, {
          method: text && 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token && { authorization: 'Bearer ' + token }),
            ...headers,
          },
          body: text,
          // The server-set cookie (identity.serverCookie), where the config turns it on, goes along and
          // comes back on collect's answers; no other request carries cookies.
          credentials: path == 'collect' && serverCookie() ? 'include' : undefined,
          keepalive: !text?.[2e4],
          signal: AbortSignal.timeout?.(3e4),
        });
      } catch (e) {
        throw new CairnError('network', 0, e);
      }
      const status = response.status;
      if (status > 399) throw new CairnError(status == 401 ? 'unauthorized' : 'http', status, response);
      return response;
    },
    _request: (path, body, query) =>
      transport._send(path, body, query).then((response) => response.json().catch(() => {})),
  };
  return transport;
}
