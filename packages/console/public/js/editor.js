// The site-config editor: a JSON textarea checked as you type by the server's own schema
// (POST /console/api/validate), saved with PUT /v1/config and If-Match (If-None-Match: * for a
// site's first config), so a save made on top of someone else's is refused (412) instead of
// silently overwriting it.
import { api, problem } from './api.js';
import { $, el, say } from './dom.js';

const SHOP_KEY = 'cairn.console.shop';
const DEFAULT_SHOP = 'http://localhost:3000';

/**
 * @type {{ site: string, etag: string | null, stored: boolean, saved: string, check: number,
 *   timer: ReturnType<typeof setTimeout> | number, onChange: (config: unknown) => void }}
 */
const state = {
  site: '',
  /** The ETag of the version loaded (quoted), and whether the site has a stored config at all. */
  etag: null,
  stored: false,
  saved: '',
  check: 0,
  timer: 0,
  onChange: () => {},
};

const text = () => $('config-text');

/** A JSON.parse error as "line L, column C: message" when the engine gives a position. */
function jsonIssue(e, source) {
  const m = /position (\d+)/.exec(e.message);
  let where = '';
  if (m) {
    const before = source.slice(0, Number(m[1]));
    const line = before.split('\n').length;
    where = `line ${line}, column ${before.length - before.lastIndexOf('\n')}: `;
  }
  return { path: '(json)', message: `${where}${e.message.replace(/^JSON\.parse: /, '')}` };
}

const KINDS = { variants: 'variant', prompts: 'prompt', triggers: 'trigger' };

/** What a dotted path points at, in words: `variants.0.slots.x` -> variant "facebook-offer". */
function where(path, config) {
  const [list, index] = path.split('.');
  const kind = KINDS[list];
  const item = kind && Array.isArray(config?.[list]) ? config[list][Number(index)] : null;
  if (!item) return '';
  return typeof item.id === 'string' && item.id ? `in ${kind} "${item.id}"` : `in ${kind} #${Number(index) + 1}`;
}

function showIssues(issues, config) {
  $('config-issues').replaceChildren(
    ...issues.map((i) =>
      el(
        'li',
        {},
        el('code', {}, i.path || '(root)'),
        ' ',
        i.message,
        ' ',
        el('span', { class: 'where' }, where(i.path, config)),
      ),
    ),
  );
  text().classList.toggle('invalid', issues.length > 0);
  text().setAttribute('aria-invalid', String(issues.length > 0));
}

function message(tone, words, theirs = false) {
  const box = $('config-message');
  box.hidden = !words;
  box.classList.remove('ok', 'bad', 'warn');
  if (tone) box.classList.add(tone);
  $('config-message-text').textContent = words;
  $('config-theirs').hidden = !theirs;
}

function badge(tone, words) {
  say($('config-valid'), words, tone);
}

function parse() {
  try {
    return { config: JSON.parse(text().value) };
  } catch (e) {
    return { error: jsonIssue(e, text().value) };
  }
}

/** Checks the text now: locally for JSON syntax, then against the server's schema. */
async function check() {
  const n = ++state.check;
  const p = parse();
  const dirty = text().value !== state.saved ? ' · unsaved changes' : '';
  if (p.error) {
    showIssues([p.error]);
    badge('bad', `Not valid JSON${dirty}`);
    return false;
  }
  state.onChange(p.config);
  badge('busy', 'Checking…');
  const r = await api('/console/api/validate', {
    method: 'POST',
    body: text().value,
    headers: { 'Content-Type': 'application/json' },
  }).catch(() => null);
  if (n !== state.check) return null; // an older check: a newer one is on its way
  if (!r?.ok) {
    badge('bad', r ? problem(r) : 'Cannot reach the server');
    return null;
  }
  showIssues(r.body.issues, p.config);
  badge(
    r.body.ok ? 'ok' : 'bad',
    (r.body.ok ? 'Valid' : `${r.body.issues.length} problem${r.body.issues.length === 1 ? '' : 's'}`) + dirty,
  );
  return r.body.ok;
}

function later() {
  clearTimeout(state.timer);
  state.timer = setTimeout(check, 250);
}

/** Loads the site's current config into the editor. */
export async function loadConfig(site) {
  state.site = site;
  message(null, '');
  const r = await api(`/v1/config?site=${encodeURIComponent(site)}`);
  if (!r.ok) {
    message('bad', `Cannot load the config of "${site}": ${problem(r)}`);
    return null;
  }
  const etag = r.headers.get('ETag');
  state.etag = etag;
  // A site with no stored config is served a default (ETag "d-…"): the first save is create-only
  // (If-None-Match: *), so of two marketers saving a new site's first config, the second is refused.
  state.stored = !!etag && !/^(W\/)?"d-/.test(etag);
  state.saved = JSON.stringify(r.body, null, 2);
  text().value = state.saved;
  $('config-etag').textContent = state.stored
    ? `version ${/** @type {string} */ (etag).replace(/"/g, '').slice(0, 8)}`
    : 'not saved yet';
  await check();
  return r.body;
}

async function save() {
  clearTimeout(state.timer);
  const p = parse();
  if (p.error) {
    showIssues([p.error]);
    message('bad', 'Not saved: the config is not valid JSON.');
    return;
  }
  const button = $('config-save');
  button.disabled = true;
  try {
    const headers = { 'Content-Type': 'application/json' };
    if (state.stored && state.etag) headers['If-Match'] = state.etag;
    else headers['If-None-Match'] = '*';
    const body = text().value;
    const r = await api(`/v1/config?site=${encodeURIComponent(state.site)}`, { method: 'PUT', body, headers });
    if (r.ok) {
      state.etag = r.headers.get('ETag');
      state.stored = true;
      state.saved = body;
      $('config-etag').textContent = `version ${String(state.etag).replace(/"/g, '').slice(0, 8)}`;
      showIssues([]);
      badge('ok', 'Valid');
      message(
        'ok',
        `Saved at ${new Date().toLocaleTimeString()}. Storefronts pick it up within a minute (their cached copy expires).`,
      );
      state.onChange(r.body?.config ?? p.config);
    } else if (r.status === 412) {
      message(
        'warn',
        'Not saved: someone else saved this config after you loaded it. Your edits are still in the editor; load their version, then make your changes again.',
        true,
      );
    } else if (r.status === 400 && Array.isArray(r.body?.issues)) {
      showIssues(r.body.issues, p.config);
      badge('bad', `${r.body.issues.length} problem${r.body.issues.length === 1 ? '' : 's'}`);
      message('bad', 'Not saved: fix the problems listed below.');
    } else {
      message('bad', `Not saved: ${problem(r)}`);
    }
  } catch (e) {
    message('bad', `Not saved: ${/** @type {Error} */ (e).message}`);
  } finally {
    button.disabled = false;
  }
}

function shopUrl() {
  const raw = $('shop-url').value.trim() || DEFAULT_SHOP;
  try {
    const u = new URL(raw);
    if (/^https?:$/.test(u.protocol)) return u;
  } catch {}
  return null;
}

function open(params) {
  const u = shopUrl();
  if (!u) return say($('preview-error'), 'The storefront address must be an http(s) URL, like http://localhost:3000.');
  say($('preview-error'), '');
  localStorage.setItem(SHOP_KEY, u.href);
  const target = new URL('/', u);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  window.open(target.href, '_blank', 'noopener');
}

/** The variant ids the preview can open, from the config in the editor. */
export function setPreviewVariants(config) {
  const select = $('preview-variant');
  const current = select.value;
  const variants = Array.isArray(config?.variants) ? config.variants.filter((v) => typeof v?.id === 'string') : [];
  select.replaceChildren(
    ...variants.map((v) => el('option', { value: v.id }, typeof v.name === 'string' ? `${v.name} (${v.id})` : v.id)),
  );
  if (variants.some((v) => v.id === current)) select.value = current;
  $('preview').disabled = variants.length === 0;
}

export function initEditor({ onChange }) {
  state.onChange = onChange;
  $('shop-url').value = localStorage.getItem(SHOP_KEY) || DEFAULT_SHOP;
  text().addEventListener('input', later);
  $('config-save').addEventListener('click', save);
  $('config-reload').addEventListener('click', () => loadConfig(state.site));
  $('config-theirs').addEventListener('click', () => loadConfig(state.site));
  $('config-format').addEventListener('click', () => {
    const p = parse();
    if (p.config) text().value = JSON.stringify(p.config, null, 2);
    check();
  });
  $('preview').addEventListener(
    'click',
    () => $('preview-variant').value && open({ cairn_variant: $('preview-variant').value }),
  );
  $('preview-debug').addEventListener('click', () => open({ cairn_debug: '1' }));
}
