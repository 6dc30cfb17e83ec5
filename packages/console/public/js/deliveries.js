// The delivery log: the site's trigger webhooks (GET /v1/deliveries, admin), newest first, with their
// status, attempts and the receiver's answer. Everything from the server goes in as text: a reason or
// a receiver's error message is whatever the receiver said.
import { api, problem } from './api.js';
import { $, el, say } from './dom.js';

/** How a status reads, and its tone (the console's verdict colours). */
const STATUS = {
  pending: ['pending', 'wait'],
  retrying: ['retrying', 'warn'],
  delivered: ['delivered', 'ok'],
  failed: ['failed', 'bad'],
  cancelled: ['cancelled', 'same'],
  open: ['open', 'wait'],
};

/** Why an episode was cancelled or failed, in words; an unknown reason shows as it is. */
const REASONS = {
  purchase: 'the person bought',
  cart_emptied: 'the cart was emptied',
  add_to_cart: 'the person added to the cart (a cart trigger takes over)',
  min_product_views: 'fewer products viewed than the trigger’s minProductViews',
  window_expired: 'the receiver failed for the whole retry window (24 hours)',
  unreachable: 'no channel to reach the person (not signed in, no opt-in)',
  cooldown: 'a delivery to the person within the cooldown',
  denied: 'the person refused consent',
  audience: 'the person does not match where.traits',
  merged: 'merged into the same person’s episode on another device',
  config_removed: 'the trigger was removed from the config',
};

const time = (ms) =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '–';

/** The receiver's answer: its HTTP status, "no answer" (timeout, refused connection), or nothing yet. */
function receiver(d) {
  if (typeof d.lastStatus === 'number') return String(d.lastStatus);
  return d.attempts > 0 ? 'no answer' : '–';
}

function detail(d) {
  const parts = [];
  if (d.reason) parts.push(REASONS[d.reason] ?? String(d.reason));
  if (d.lastError) parts.push(String(d.lastError));
  if (d.status === 'delivered' && d.deliveredAt) parts.push(`delivered ${time(d.deliveredAt)}`);
  if ((d.status === 'retrying' || d.status === 'pending') && d.nextAttemptAt)
    parts.push(`next attempt ${time(d.nextAttemptAt)}`);
  return parts.join(' · ');
}

function row(d) {
  const [label, tone] = STATUS[d.status] ?? [String(d.status), ''];
  // The server says "user <id>" or "anonymous device": never a device id.
  const person = typeof d.person === 'string' && d.person ? d.person : 'anonymous device';
  return el(
    'tr',
    { 'data-status': String(d.status), 'data-id': String(d.id ?? '') },
    el('td', {}, time(d.updatedAt ?? d.createdAt)),
    el('td', {}, el('code', {}, String(d.trigger ?? '')), d.on ? el('span', { class: 'hint' }, ` ${d.on}`) : ''),
    el('td', {}, person),
    el('td', {}, el('span', { class: `verdict ${tone}` }, label)),
    el('td', { class: 'num' }, String(d.attempts ?? 0)),
    el('td', { class: 'num' }, receiver(d)),
    el('td', {}, detail(d)),
  );
}

/** Loads and shows the log of `site`, with the status filter picked. */
export async function loadDeliveries(site) {
  const status = $('deliveries-status');
  const filter = $('deliveries-filter').value;
  say(status, 'Loading…');
  const q = new URLSearchParams({ site, limit: '100' });
  if (filter) q.set('status', filter);
  let r;
  try {
    r = await api(`/v1/deliveries?${q}`);
  } catch (e) {
    return say(status, `Cannot load the deliveries: ${/** @type {Error} */ (e).message}`, 'bad');
  }
  if (!r.ok) return say(status, `Cannot load the deliveries: ${problem(r)}`, 'bad');
  const list = Array.isArray(r.body?.deliveries) ? r.body.deliveries : [];
  $('deliveries-table')
    .querySelector('tbody')
    .replaceChildren(...list.map(row));
  $('deliveries-table').hidden = list.length === 0;
  const n = list.length;
  say(
    status,
    n
      ? `${n} deliver${n === 1 ? 'y' : 'ies'}${filter ? ` ${filter}` : ''}, newest first${n === 100 ? ' (the latest 100)' : ''}.`
      : `No deliveries${filter ? ` ${filter}` : ''} yet for "${site}".`,
  );
}

/** Wires the filter and the refresh button; `site` reads the site the console is on. */
export function initDeliveries(site) {
  $('deliveries-filter').addEventListener('change', () => loadDeliveries(site()));
  $('deliveries-refresh').addEventListener('click', () => loadDeliveries(site()));
}
