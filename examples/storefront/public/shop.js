// Shared by every page. `demoCairn(method, ...args)` calls Cairn when it has loaded, else queues the call
// in the `window.cairn` array for the SDK to replay; and `[data-track]` elements send a track event on click.
(() => {
  const call = (method, ...args) => {
    try {
      const c = window.cairn;
      if (c && typeof c[method] === 'function') return c[method](...args);
      (window.cairn = c || []).push([method, ...args]);
    } catch {
      // Analytics must never break the shop.
    }
    return undefined;
  };
  window.demoCairn = call;

  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-track]') : null;
    if (!el) return;
    const { product, value } = el.dataset;
    // Commerce props as the reports read them: add_to_cart carries { sku, value, currency }.
    call(
      'track',
      el.dataset.track,
      product ? { product, sku: product, ...(value ? { value: Number(value), currency: 'EUR' } : {}) } : {},
    );
    if (el.hasAttribute('aria-pressed')) {
      const on = el.getAttribute('aria-pressed') !== 'true';
      el.setAttribute('aria-pressed', String(on));
      el.textContent = on ? 'Saved' : 'Save for later';
    }
  });
})();
