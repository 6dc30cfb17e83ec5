// Signing out wipes Cairn's copy of the account from this device, then starts a fresh anonymous device.
(async () => {
  const status = document.querySelector('[data-reset-status]');
  try {
    const c = window.cairn;
    if (!c || typeof c.reset !== 'function') throw new Error('Cairn did not load');
    await c.ready;
    await c.reset();
    if (status) {
      status.textContent = 'You are signed out, and this device no longer holds your history.';
      status.dataset.state = 'done';
    }
  } catch (e) {
    if (status) {
      status.textContent = `Signed out, but this device could not be cleared: ${e instanceof Error ? e.message : e}`;
      status.dataset.state = 'error';
    }
  }
})();
