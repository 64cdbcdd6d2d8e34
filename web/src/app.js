// The console's entry point: tabs, and the wiring of panels to the one MQTT link.
import { $, $$, load, save } from './util.js';
import { Link } from './link.js';
import { setupConnect } from './connect.js';
import { setupMessages } from './messages.js';
import { setupTree } from './tree.js';
import { setupPublish } from './publish.js';
import { setupStatus } from './status.js';
import { setupPlots } from './plots.js';
import { setupTopicChart } from './topicchart.js';

const TABS = ['connect', 'messages', 'topics', 'publish', 'status', 'plots'];

function setupTabs() {
  const tabs = $$('[role="tab"]');
  const show = (name, focus = false) => {
    if (!TABS.includes(name)) name = 'connect';
    for (const t of tabs) {
      const on = t.dataset.tab === name;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
      $(`#panel-${t.dataset.tab}`).hidden = !on;
    }
    save('tab', name);
    if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  };
  for (const t of tabs) {
    t.addEventListener('click', () => show(t.dataset.tab));
    // Arrow keys move between tabs, as in the WAI-ARIA tabs pattern.
    t.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(t);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      show(tabs[(to + tabs.length) % tabs.length].dataset.tab, true);
    });
  }
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  show(location.hash.slice(1) || load('tab', 'connect'));
  return show;
}

function main() {
  const link = new Link();
  const show = setupTabs();
  const connect = setupConnect(link);
  const publish = setupPublish(link);
  let chart = null;
  const onChart = (topic) => chart.add(topic);
  const tree = setupTree(link, {
    onPublishTo: (topic, payload) => {
      publish.edit(topic, payload);
      show('publish');
      $('#publish-form').elements.topic.focus();
    },
    onChart,
  });
  chart = setupTopicChart((topic) => tree.history(topic));
  const messages = setupMessages(link, { onChart });
  setupStatus(link);
  const plots = setupPlots(link);

  link.onGroup('user', (message, owner) => {
    const m = messages.receive(message, owner);
    tree.receive(m);
    chart.receive(m);
  });
  link.addEventListener('state', (e) => {
    if (e.detail.state === 'connected' && $('#panel-connect').hidden === false) show('messages');
  });

  // A small handle for scripted checks of the page (the console's browser tests use it).
  window.iotplotConsole = { link, plots, chart, tree, show };
  document.body.dataset.ready = 'true';
  connect.autoConnect();
}

main();
