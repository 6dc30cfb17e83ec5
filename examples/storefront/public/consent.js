// The demo's consent banner (only when the shop runs with consent pending). The choice goes to Cairn,
// and the shop remembers it in its own `demo_consent` cookie, as a consent manager would.
(() => {
  const banner = document.querySelector('[data-demo-consent]');
  if (!banner) return;
  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element ? e.target : null;
    if (el?.closest('[data-consent-open]')) {
      banner.hidden = false;
      banner.querySelector('button')?.focus();
      return;
    }
    const choice = el?.closest('[data-consent-choice]')?.getAttribute('data-consent-choice');
    if (choice !== 'granted' && choice !== 'denied') return;
    window.demoCairn?.('consent', choice);
    document.cookie = `demo_consent=${choice}; Path=/; SameSite=Lax; Max-Age=${180 * 86400}`;
    banner.hidden = true;
  });
})();
