// Fills every `[data-cairn-recent]` list from Cairn: this device's history plus, once signed in, the merged
// profile, so products viewed on another device show up here. Re-renders on the `demo:recent` event.
(() => {
  const lists = document.querySelectorAll('[data-cairn-recent]');
  if (!lists.length) return;
  const current = document.querySelector('meta[name="cairn:product"]')?.content;
  let catalog;
  let seq = 0;

  async function render() {
    const mine = ++seq;
    const c = window.cairn;
    if (!c || typeof c.history !== 'function') return;
    catalog ??= fetch('/catalog.json').then((r) => r.json());
    await c.ready;
    const [{ products }, history, profile] = await Promise.all([
      catalog,
      Promise.resolve(c.history()).catch(() => null),
      typeof c.profile === 'function' ? Promise.resolve(c.profile()).catch(() => null) : null,
    ]);
    if (mine !== seq) return; // a newer render (after identify) wins
    const skus = [];
    const ids = [...(history?.products ?? []), ...(profile?.products ?? []).map((p) => p?.id)];
    for (const sku of ids) if (typeof sku === 'string' && sku !== current && !skus.includes(sku)) skus.push(sku);
    const items = skus
      .map((sku) => products.find((p) => p.sku === sku))
      .filter(Boolean)
      .slice(0, 6);
    for (const list of lists) {
      list.replaceChildren(...items.map(item));
      const empty = list.parentElement?.querySelector('[data-recent-empty]');
      if (empty) empty.hidden = items.length > 0;
    }
  }

  // Text only: names come from the catalogue, but nothing here is parsed as HTML.
  function item(p) {
    const li = document.createElement('li');
    li.dataset.sku = p.sku;
    const a = document.createElement('a');
    a.className = 'card';
    a.href = `/product/${encodeURIComponent(p.sku)}`;
    const img = document.createElement('img');
    img.src = `/img/product/${encodeURIComponent(p.sku)}.svg`;
    img.alt = '';
    img.width = 160;
    img.height = 120;
    const name = document.createElement('span');
    name.className = 'card-name';
    name.textContent = p.name;
    const meta = document.createElement('span');
    meta.className = 'card-meta';
    meta.textContent = p.shade;
    a.append(img, name, meta);
    li.append(a);
    return li;
  }

  const refresh = () => void render().catch(() => {});
  document.addEventListener('demo:recent', refresh);
  // The merged profile arrives after start (pulled from the sync server), or changes on identify and reset.
  const c = window.cairn;
  if (c && typeof c.on === 'function') ['profile', 'identify', 'reset'].forEach((e) => c.on(e, refresh));
  refresh();
})();
