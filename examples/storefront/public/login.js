// After the shop's backend signed the login, link this device to the account. The token was signed
// server-side with the secret shared with the sync server; the browser only passes it on.
(async () => {
  const status = document.querySelector('[data-identify-status]');
  const data = document.getElementById('demo-identity');
  if (!status || !data) return;
  try {
    const { user, token } = JSON.parse(data.textContent || '{}');
    const c = window.cairn;
    if (!c || typeof c.identify !== 'function') throw new Error('Cairn did not load');
    await c.ready;
    await c.identify(user, token);
    status.textContent = `Signed in as ${user}. What you viewed on your other devices is below.`;
    status.dataset.state = 'done';
    document.dispatchEvent(new Event('demo:recent'));
  } catch (e) {
    status.textContent = `You are signed in, but this device could not be linked: ${e instanceof Error ? e.message : e}`;
    status.dataset.state = 'error';
  }
})();
