// Synthetic events in the wire format of POST /v1/collect (see @cairn/schema's eventSchema).
// The JSON is built as text: the load generator shares the CPU with the servers it measures.

const SKUS = 300;
const CATEGORIES = ['bedding', 'table', 'bath', 'kitchen', 'throws', 'curtains', 'cushions', 'rugs'];

/** An event id that is unique for the run: `run` is a random prefix, `n` a counter. */
export const eventId = (run, n) => `${run}-${n.toString(36).padStart(6, '0')}`;

/** One page-view event as JSON text. */
export function pageEventJson(id, at, n, device) {
  const sku = `SKU-${n % SKUS}`;
  const cat = CATEGORIES[n % CATEGORIES.length];
  return `{"id":"${id}","type":"page","at":${at},"path":"/product/${sku}","title":"Product ${sku}","product":"${sku}","category":"${cat}","session":"s-${Math.floor(n / 20)}","device":"${device}"}`;
}

/** A collect body with `count` page views, as JSON text. */
export function collectBodyJson(site, deviceId, run, first, count, device = 'desktop') {
  const at = Date.now();
  let events = '';
  for (let i = 0; i < count; i++)
    events += (i ? ',' : '') + pageEventJson(eventId(run, first + i), at - (count - i) * 1000, first + i, device);
  return `{"site":"${site}","deviceId":"${deviceId}","events":[${events}]}`;
}

/**
 * A varied history event (objects, for the store's ingest): mostly page views of products and
 * categories, some cart events, and now and then a new touch.
 */
export function historyEvent(id, at, n, device) {
  const sku = `SKU-${(n * 7) % SKUS}`;
  const category = CATEGORIES[n % CATEGORIES.length];
  const k = n % 20;
  if (k < 14)
    return {
      id,
      type: 'page',
      at,
      path: `/product/${sku}`,
      title: `Product ${sku}`,
      product: sku,
      category,
      session: `s-${Math.floor(n / 15)}`,
      device,
    };
  if (k < 16)
    return {
      id,
      type: 'page',
      at,
      path: `/category/${category}`,
      title: category,
      category,
      session: `s-${Math.floor(n / 15)}`,
      device,
    };
  if (k < 19) return { id, type: 'add_to_cart', at, product: sku, qty: 1 + (n % 3) };
  return {
    id,
    type: 'touch',
    at,
    touch: {
      source: 'pinterest',
      medium: 'social',
      campaign: `spring-${n % 5}`,
      channel: 'Organic Social',
      landingPath: '/',
      at,
    },
  };
}
