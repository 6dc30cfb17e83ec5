// Records the order as a `purchase` event before the form posts. The order id makes it count once
// in the reports, however often it is sent.
(() => {
  const form = document.querySelector('[data-checkout]');
  form?.addEventListener('submit', () => {
    const d = form.dataset;
    const items = (d.items || '')
      .split(',')
      .filter(Boolean)
      .map((l) => {
        const [sku, qty] = l.split(':');
        return { sku, qty: Number(qty) || 1 };
      });
    window.demoCairn?.('track', 'purchase', {
      orderId: d.orderId,
      value: Number(d.total) || 0,
      currency: 'EUR',
      items,
    });
  });
})();
