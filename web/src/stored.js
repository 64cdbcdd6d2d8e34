// Stored series: what the plot server of `iotplot serve` keeps in its store, read through
// the broker's HTTP API (GET /api/series, /api/rows: docs/console.md). The Plots panel
// lists them, and "Load" draws one in a live chart: its rows page in from the store, and
// each `data` message of it afterwards fetches the rows stored since, so every row is
// drawn once, in the store's order, whatever arrived while the first pages loaded.
//
// The broker says on every answer of the page whether it has the API (X-Iotplot-Store)
// and whether it needs a login (X-Iotplot-Plots: private): then the API is asked with
// the Connect form's login, and answers with that user's sessions only.
import { $, el, count, announce } from './util.js';

const PAGE = 20000; // rows asked per request; the broker also cuts answers by size
const RETRIES = 20; // asking again for rows not stored yet: at most this often...
const RETRY_MS = 250; // ...this far apart

/** "Basic ..." for a user name and password, UTF-8 as browsers send it. */
export function basicAuth(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** What the server of this page offers: {api, private}, asked once (a HEAD of the page). */
let offered = null;
export function serverOffers() {
  if (!offered) {
    offered = (async () => {
      if (!/^https?:$/.test(location.protocol)) return { api: false, private: false };
      try {
        const r = await fetch(location.pathname, { method: 'HEAD', credentials: 'omit', cache: 'no-store' });
        await r.arrayBuffer(); // empty; a response left unread counts as aborted
        return { api: r.headers.get('x-iotplot-store') === 'api', private: r.headers.get('x-iotplot-plots') === 'private' };
      } catch {
        return { api: false, private: false };
      }
    })();
  }
  return offered;
}

const when = (t) => (typeof t === 'number' ? new Date(t * 1000).toLocaleString() : 'no rows yet');

/**
 * plots: the panel's side, {define(session, name, columns) -> series or null,
 * labels(series, {title, xlabel, ylabel}), drawn(series)}. login() -> {user, password}.
 */
export function setupStored(plots, login) {
  const box = $('#stored-box');
  const list = $('#stored-list');
  let busy = false;
  // Asked at once: one small HEAD while the page loads, answered before anyone looks.
  serverOffers();

  const get = async (path) => {
    const { user, password } = login();
    const offers = await serverOffers();
    const headers = offers.private ? { Authorization: basicAuth(user, password) } : {};
    const r = await fetch(path, { headers, credentials: 'omit', cache: 'no-store' });
    if (!r.ok) {
      await r.arrayBuffer();
      throw new Error(`${path.split('?')[0]}: ${r.status} ${r.statusText || ''}`.trim());
    }
    return r.json();
  };

  const render = (entries) => {
    list.replaceChildren();
    for (const s of entries) {
      const label = `${s.session} / ${s.name}`;
      list.append(el('li', { class: 'stored-item', dataset: { session: s.session, series: s.name, rows: String(s.rows) } },
        el('span', { class: 'stored-name' }, el('span', { class: 'muted' }, `${s.session} / `), s.name),
        el('span', { class: 'muted small' },
          ` ${s.columns.join(', ')} · ${count(s.rows)} rows · last ${when(s.last)}${s.title ? ` · “${s.title}”` : ''}`),
        el('button', { type: 'button', class: 'mini', 'aria-label': `Load ${label}`, onclick: () => load(s) }, 'Load')));
    }
    $('#stored-empty').hidden = entries.length > 0;
    $('#stored-summary').textContent = `${count(entries.length)} series in the store`;
  };

  /** The list again; quietly nothing where the server has no API or a login is missing. */
  const refresh = async () => {
    const offers = await serverOffers();
    box.hidden = !offers.api;
    if (!offers.api) return;
    if (offers.private && !login().user) {
      render([]);
      $('#stored-empty').textContent = 'Log in (Connection tab) to see your stored series.';
      return;
    }
    try {
      const got = await get('/api/series');
      $('#stored-empty').textContent = 'Nothing stored yet.';
      render(got.series);
      list.dataset.loaded = 'true';
    } catch (e) {
      announce(`Stored series: ${e.message}`, 'error');
    }
  };

  /**
   * Rows stored since series.storedNext, page after page; then again on each poke (a
   * `data` message of the series). The store may not have applied what the broker just
   * delivered: while fewer rows are drawn than messages came, or a new_series has not
   * reached the store yet (an answer of the version already drawn), it asks again a
   * little later, a bounded number of times.
   */
  const follow = (series) => {
    let running = false;
    let again = false;
    let retries = 0;
    let timer = 0;
    const pull = async (poke = true) => {
      if (poke) {
        series.expected++;
        retries = 0;
      }
      if (running) {
        again = true;
        return;
      }
      running = true;
      clearTimeout(timer);
      let behind = false;
      try {
        for (;;) {
          again = false;
          const since = series.storedNext;
          const q = new URLSearchParams({ session: series.session, name: series.name, since: String(since), limit: String(PAGE) });
          const got = await get(`/api/rows?${q}`);
          if (series.storedNext !== since) continue; // a new_series reset it meanwhile
          if (got.version <= series.staleVersion) {
            behind = true; // the series was made again, the store still has the old one
            break;
          }
          series.storedVersion = got.version;
          got.rows.forEach((row, i) => {
            if (!row.every((v) => typeof v === 'number') || !series.push(row, got.received[i])) series.dropped++;
          });
          series.storedNext = got.next;
          plots.drawn(series);
          if (!got.more && !again) break;
        }
        behind = behind || series.storedNext < series.expected;
      } catch (e) {
        announce(`${series.session} / ${series.name}: ${e.message}`, 'error');
      } finally {
        running = false;
      }
      if (behind && retries++ < RETRIES) timer = setTimeout(() => pull(false), RETRY_MS);
    };
    return pull;
  };

  const load = async (s) => {
    if (busy) return;
    busy = true;
    try {
      const series = plots.define(s.session, s.name, s.columns);
      if (!series) return announce('Too many series to load another', 'error');
      series.reset();
      series.staleVersion = 0; // whatever version the store has now
      plots.labels(series, s);
      // After a load, a `data` message of this series pokes the store instead of being
      // drawn itself (it may already be among the rows read).
      series.follow = follow(series);
      await series.follow(false);
      series.expected = series.storedNext;
      announce(`Loaded ${count(series.n)} rows of ${s.session} / ${s.name}`, 'ok');
      series.card.scrollIntoView({ block: 'nearest' });
    } finally {
      busy = false;
    }
  };

  $('#stored-refresh').addEventListener('click', refresh);
  return { refresh };
}
