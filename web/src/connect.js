// Connect panel: broker address and credentials, kept in localStorage, and the connection
// state shown in the top bar at all times.
import { $, el, load, save, randomHex, announce, clock } from './util.js';

const LOG_MAX = 50;

/** Defaults: the host and port that served the page, so the broker's own console just works. */
function defaults() {
  const served = location.protocol === 'http:' || location.protocol === 'https:';
  const tls = location.protocol === 'https:';
  return {
    host: served ? location.hostname : 'localhost',
    port: served ? Number(location.port) || (tls ? 443 : 80) : 8080,
    path: '/mqtt',
    tls,
    username: '',
    password: '',
    remember: false,
    clientId: 'iotplot-console',
    suffix: true,
    version: 4,
    auto: false,
  };
}

export function setupConnect(link) {
  const form = $('#connect-form');
  const f = (name) => form.elements[name];
  const settings = { ...defaults(), ...load('connect', {}) };

  f('host').value = settings.host;
  f('port').value = settings.port;
  f('path').value = settings.path;
  f('tls').checked = settings.tls;
  f('username').value = settings.username;
  f('password').value = settings.remember ? settings.password : '';
  f('remember').checked = settings.remember;
  f('clientId').value = settings.clientId;
  f('suffix').checked = settings.suffix;
  f('version').value = String(settings.version);

  const read = () => ({
    host: f('host').value.trim(),
    port: Number(f('port').value),
    path: f('path').value.trim() || '/',
    tls: f('tls').checked,
    username: f('username').value,
    password: f('password').value,
    remember: f('remember').checked,
    clientId: f('clientId').value.trim(),
    suffix: f('suffix').checked,
    version: Number(f('version').value) === 5 ? 5 : 4,
  });

  const persist = (s, auto) => {
    const kept = { ...s, auto };
    if (!s.remember) kept.password = '';
    save('connect', kept);
  };

  const preview = () => {
    const s = read();
    const path = s.path.startsWith('/') ? s.path : '/' + s.path;
    $('#connect-url').textContent = `${s.tls ? 'wss' : 'ws'}://${s.host || '?'}:${s.port || '?'}${path}`;
  };
  form.addEventListener('input', preview);
  preview();

  const logList = $('#connect-log');
  const log = (text, kind) => {
    logList.prepend(el('li', { class: `log-${kind}` }, el('time', {}, clock(Date.now())), ' ', text));
    while (logList.children.length > LOG_MAX) logList.lastChild.remove();
    $('#connect-log-empty').hidden = true;
  };

  const start = () => {
    const s = read();
    if (!s.host) return announce('Enter the broker host', 'error');
    if (!(s.port >= 1 && s.port <= 65535)) return announce('Port must be 1 to 65535', 'error');
    const base = s.clientId || 'iotplot-console';
    const id = s.suffix ? `${base}-${randomHex(6)}` : base;
    persist(s, true);
    link.connect({ ...s, clientId: id });
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    start();
  });
  $('#disconnect').addEventListener('click', () => {
    persist(read(), false);
    link.disconnect();
  });
  $('#topbar-connect').addEventListener('click', () => {
    if (link.state === 'disconnected' || link.state === 'error') start();
    else {
      persist(read(), false);
      link.disconnect();
    }
  });

  const labels = {
    disconnected: 'Disconnected',
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    error: 'Error',
  };
  let last = '';
  link.addEventListener('state', (e) => {
    const { state, detail } = e.detail;
    const badge = $('#conn-state');
    badge.dataset.state = state;
    $('.label', badge).textContent = labels[state] || state;
    $('.detail', badge).textContent = state === 'connected' ? `${link.clientId} @ ${detail}` : detail;
    document.body.dataset.connection = state;
    const busy = state !== 'disconnected' && state !== 'error';
    $('#topbar-connect').textContent = busy ? 'Disconnect' : 'Connect';
    $('#connect-submit').textContent = busy ? 'Reconnect' : 'Connect';
    $('#disconnect').disabled = !busy;
    const line = `${labels[state] || state}${detail ? ': ' + detail : ''}`;
    if (line !== last) log(line, state);
    last = line;
    if (state === 'connected') announce(`Connected to ${detail}`, 'ok');
  });

  $('#conn-state').dataset.state = 'disconnected';
  document.body.dataset.connection = 'disconnected';
  return { autoConnect: () => settings.auto && start() };
}
