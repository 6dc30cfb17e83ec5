// The console's entry: sign-in, the report filters, and the wiring between reports and editor.
import { adminKey, api, problem, UNAUTHORIZED } from './api.js';
import { initDeliveries, loadDeliveries } from './deliveries.js';
import { $, say } from './dom.js';
import { initEditor, loadConfig, setPreviewVariants } from './editor.js';
import { day } from './format.js';
import { experiments, fetchExperiments, fetchReports, renderModels, renderReports } from './reports.js';

const SITE_KEY = 'cairn.console.site';
const DAY = 86_400_000;

let data = null;
/** Variant ids to names, from the config in the editor. */
let names = new Map();
let loadedSite = '';

const model = () =>
  /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="model"]:checked'))?.value ?? 'last';
const metric = () => $('models-metric').value;
/** The minimum detectable effect the lift report sizes samples for (a fraction). */
const mde = () => Number($('mde').value) || 0.1;
const range = () => ({ site: $('site').value.trim(), from: $('from').value, to: $('to').value, mde: mde() });

function showLogin(reason = '') {
  $('app').hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  say($('login-error'), reason);
  $('login-key').focus();
}

async function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('nav').hidden = false;
  $('logout').hidden = false;
  await refresh();
}

async function refresh() {
  const site = $('site').value.trim();
  if (!$('filters').reportValidity()) return;
  localStorage.setItem(SITE_KEY, site);
  const status = $('report-status');
  say(status, 'Loading…');
  // The editor follows the site; reloading it on every refresh would drop unsaved edits.
  const config = site !== loadedSite ? loadConfig(site).then(onConfig) : Promise.resolve();
  loadedSite = site;
  // The delivery log says its own errors: a failed report does not hide it.
  loadDeliveries(site);
  try {
    data = await fetchReports(range());
    await config;
    renderReports(data, { model: model(), metric: metric(), names });
    const v = data.channels.last.totals.visitors;
    say(status, `${v} visitor${v === 1 ? '' : 's'} from ${$('from').value} to ${$('to').value} (UTC days).`);
  } catch (e) {
    say(status, `Cannot load the reports: ${/** @type {Error} */ (e).message}`, 'bad');
  }
}

function onConfig(config) {
  if (!config) return;
  names = new Map(
    (Array.isArray(config.variants) ? config.variants : [])
      .filter((v) => v && typeof v.id === 'string')
      .map((v) => [v.id, String(v.name ?? '')]),
  );
  setPreviewVariants(config);
}

function init() {
  const today = Date.now();
  $('site').value = localStorage.getItem(SITE_KEY) || 'demo';
  $('to').value = day(today);
  $('from').value = day(today - 29 * DAY);

  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = $('login-key').value.trim();
    if (!key) return;
    say($('login-error'), 'Checking…');
    // The validation endpoint needs the key and reads nothing: a cheap way to check it.
    const r = await api('/console/api/validate', {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
      key,
    }).catch((err) => ({ error: err }));
    if ('error' in r) return say($('login-error'), `Cannot reach the server: ${r.error.message}`);
    if (r.status === 401) return say($('login-error'), 'This key was refused.');
    if (!r.ok) return say($('login-error'), problem(r));
    adminKey.set(key);
    $('login-key').value = '';
    say($('login-error'), '');
    showApp();
  });
  $('logout').addEventListener('click', () => {
    adminKey.clear();
    loadedSite = '';
    showLogin();
  });
  window.addEventListener(UNAUTHORIZED, () => {
    adminKey.clear();
    loadedSite = '';
    showLogin('The server refused the admin key: sign in again.');
  });

  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    refresh();
  });
  for (const radio of document.querySelectorAll('input[name="model"]')) {
    radio.addEventListener('change', () => data && renderReports(data, { model: model(), metric: metric(), names }));
  }
  $('models-metric').addEventListener('change', () => data && renderModels(data, metric()));
  // Another MDE changes the sample sizes and the no-difference band: the experiments report only.
  $('mde').addEventListener('change', async () => {
    if (!data) return;
    const status = $('report-status');
    try {
      data.experiments = await fetchExperiments(range());
      experiments(data.experiments, names);
    } catch (e) {
      say(status, `Cannot load the experiments report: ${/** @type {Error} */ (e).message}`, 'bad');
    }
  });

  initEditor({ onChange: onConfig });
  initDeliveries(() => $('site').value.trim());
  if (adminKey.get()) showApp();
  else showLogin();
}

init();
