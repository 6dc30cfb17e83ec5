// Calls to the sync server, with the admin key from this tab's sessionStorage as a Bearer token.

const KEY = 'cairn.console.key';

export const adminKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

/** Fired on window when the server refuses the key: the app goes back to the sign-in form. */
export const UNAUTHORIZED = 'cairn:unauthorized';

/**
 * Resolves to `{ status, ok, headers, body }` (body: parsed JSON or null) for any HTTP answer;
 * rejects only when the server cannot be reached.
 * @param {string} path
 * @param {{ method?: string, body?: string, headers?: Record<string, string>, key?: string | null }} [options]
 * @returns {Promise<{ status: number, ok: boolean, headers: Headers, body: any }>}
 */
export async function api(path, { method = 'GET', body, headers = {}, key = adminKey.get() } = {}) {
  const h = { ...headers };
  if (key) h.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new Error('cannot reach the server');
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (res.status === 401 && key) window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
  return { status: res.status, ok: res.ok, headers: res.headers, body: json };
}

/** The server's error message for a failed answer. */
export const problem = (r) => r.body?.message || `the server answered ${r.status}`;
