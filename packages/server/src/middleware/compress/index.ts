import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import type { Env } from '../../context.js';

// Compresses JSON and JavaScript answers with brotli or gzip, as the request's Accept-Encoding allows.
// hono/compress has no brotli, hence node:zlib.

export type ContentCoding = 'br' | 'gzip';
export type Effort = 'max' | 'fast';
export type Encoder = (bytes: Uint8Array, coding: ContentCoding, effort: Effort) => Promise<Uint8Array>;

export interface CompressOptions {
  /** Smaller bodies go as they are: compressing them saves next to nothing. Default 1024 bytes. */
  threshold?: number;
  /** How many compressed bytes of public, ETagged answers are kept. Default 16 MiB. */
  cacheBytes?: number;
  /** Default: node:zlib. Tests count its calls. */
  encode?: Encoder;
}

const COMPRESSIBLE = /^\s*(application\/(json|javascript|[\w.-]+\+json)|text\/javascript)\s*(;|$)/i;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Compressed once and kept, an answer gets the strongest setting (brotli 11, gzip 9); compressed per
 * request (a profile), a quick one that still saves most of the bytes.
 */
export const zlibEncoder: Encoder = async (bytes, coding, effort) => {
  if (coding === 'br') {
    return brotli(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: effort === 'max' ? constants.BROTLI_MAX_QUALITY : 5,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
      },
    });
  }
  return gzipAsync(bytes, { level: effort === 'max' ? 9 : 6 });
};

/**
 * The coding to answer with: the acceptable one (q > 0) with the highest q, brotli on a tie; `*`
 * stands for codings not named. No header, `identity`, or nothing acceptable: none.
 */
export function negotiateEncoding(acceptEncoding: string | undefined): ContentCoding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    // An unreadable q is taken as 0: better not to compress than to guess.
    const value =
      qParam === undefined ? 1 : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qParam.slice(2)) ? Number(qParam.slice(2)) : 0;
    q.set(name === 'x-gzip' ? 'gzip' : name, value);
  }
  const weight = (coding: ContentCoding) => q.get(coding) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gz = weight('gzip');
  if (br <= 0 && gz <= 0) return null;
  return br >= gz ? 'br' : 'gzip';
}

/** Compressed bytes by (path, ETag, coding), least recently used dropped first, bounded in bytes. */
function createCache(maxBytes: number) {
  const entries = new Map<string, Uint8Array>();
  let bytes = 0;
  return {
    get(key: string): Uint8Array | undefined {
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit);
      }
      return hit;
    },
    set(key: string, value: Uint8Array): void {
      if (value.byteLength > maxBytes) return;
      const old = entries.get(key);
      if (old) bytes -= old.byteLength;
      entries.delete(key);
      entries.set(key, value);
      bytes += value.byteLength;
      for (const [k, v] of entries) {
        if (bytes <= maxBytes) break;
        entries.delete(k);
        bytes -= v.byteLength;
      }
    },
  };
}

/**
 * Compresses 200 answers whose type is JSON or JavaScript, from `threshold` bytes on, and marks them
 * `Vary: Accept-Encoding`. Other statuses (304s, errors' 4xx too) go as they are, as do answers
 * already encoded. The ETag stays: it names the content before coding, and If-None-Match is compared
 * weakly here. Public answers with an ETag (sdk.js, its chunks, configs) are compressed once per
 * (path, ETag, coding) and then served from memory.
 */
export function compress(options: CompressOptions = {}): MiddlewareHandler<Env> {
  const threshold = options.threshold ?? 1024;
  const encode = options.encode ?? zlibEncoder;
  const cache = createCache(options.cacheBytes ?? 16 * 1024 * 1024);
  return async (c, next) => {
    await next();
    const res = c.res;
    if (
      res.status !== 200 ||
      !res.body ||
      res.headers.has('content-encoding') ||
      !COMPRESSIBLE.test(res.headers.get('content-type') ?? '')
    )
      return;
    res.headers.append('Vary', 'Accept-Encoding');
    const coding = negotiateEncoding(c.req.header('accept-encoding'));
    if (!coding) return;
    const plain = new Uint8Array(await res.arrayBuffer());
    if (plain.byteLength < threshold) {
      c.res = new Response(plain, res);
      return;
    }
    const etag = res.headers.get('etag');
    const shared = etag !== null && /(^|,)\s*public\s*(,|$)/i.test(res.headers.get('cache-control') ?? '');
    const key = `${c.req.path}\u0000${etag}\u0000${coding}`;
    let encoded = shared ? cache.get(key) : undefined;
    if (!encoded) {
      encoded = await encode(plain, coding, shared ? 'max' : 'fast');
      if (shared) cache.set(key, encoded);
    }
    c.res = new Response(encoded as Uint8Array<ArrayBuffer>, res);
    // Set after the swap: assigning c.res copies the old answer's headers over the new one's.
    c.res.headers.set('Content-Encoding', coding);
    c.res.headers.set('Content-Length', String(encoded.byteLength));
  };
}
