// Publish panel: topic, payload, QoS, retain, a JSON check and a replayable history.
import { $, el, load, save, clip, clock, topicProblem, announce } from './util.js';

const HISTORY_MAX = 50;

export function setupPublish(link) {
  const form = $('#publish-form');
  const f = form.elements;
  const list = $('#publish-history');
  let history = load('publishHistory', []).filter((h) => h && typeof h.topic === 'string').slice(0, HISTORY_MAX);
  const draft = load('publishDraft', { topic: '', payload: '', qos: 0, retain: false });
  f.topic.value = draft.topic;
  f.payload.value = draft.payload;
  f.qos.value = String(draft.qos);
  f.retain.checked = draft.retain;

  const jsonState = $('#publish-json-state');
  const checkJson = () => {
    const text = f.payload.value;
    if (!text.trim()) {
      jsonState.textContent = '';
      jsonState.className = 'json-state';
      return null;
    }
    try {
      JSON.parse(text);
      jsonState.textContent = 'Valid JSON';
      jsonState.className = 'json-state ok';
      return true;
    } catch (e) {
      jsonState.textContent = `Not JSON: ${e.message}`;
      jsonState.className = 'json-state bad';
      return false;
    }
  };

  form.addEventListener('input', () => {
    checkJson();
    save('publishDraft', { topic: f.topic.value, payload: f.payload.value, qos: Number(f.qos.value), retain: f.retain.checked });
  });
  $('#publish-format').addEventListener('click', () => {
    if (checkJson()) f.payload.value = JSON.stringify(JSON.parse(f.payload.value), null, 2);
    else announce('The payload is not JSON', 'error');
  });

  const renderHistory = () => {
    list.replaceChildren();
    for (const h of history) {
      list.append(el('li', { class: 'history-item', dataset: { topic: h.topic } },
        el('div', { class: 'history-text' },
          el('code', { class: 'topic' }, h.topic),
          el('span', { class: 'muted' }, ` · QoS ${h.qos}${h.retain ? ' · retain' : ''} · ${clock(h.time)}`),
          el('div', { class: 'history-payload' }, clip(h.payload, 200) || '(empty)')),
        el('div', { class: 'history-actions' },
          el('button', { type: 'button', class: 'mini', onclick: () => send(h), 'aria-label': `Publish again to ${h.topic}` }, 'Replay'),
          el('button', { type: 'button', class: 'mini', onclick: () => edit(h), 'aria-label': `Edit ${h.topic}` }, 'Edit'))));
    }
    $('#publish-history-empty').hidden = history.length > 0;
  };

  const edit = (h) => {
    f.topic.value = h.topic;
    f.payload.value = h.payload;
    f.qos.value = String(h.qos);
    f.retain.checked = h.retain;
    checkJson();
    f.topic.focus();
  };

  const send = async (h) => {
    const problem = topicProblem(h.topic);
    if (problem) return announce(problem, 'error');
    try {
      await link.publish(h.topic, h.payload, { qos: h.qos, retain: h.retain });
    } catch (e) {
      return announce(`Publish failed: ${e.message}`, 'error');
    }
    const entry = { ...h, time: Date.now() };
    history = [entry, ...history.filter((x) => !(x.topic === h.topic && x.payload === h.payload &&
      x.qos === h.qos && x.retain === h.retain))].slice(0, HISTORY_MAX);
    save('publishHistory', history);
    renderHistory();
    announce(`Published to ${h.topic}`, 'ok');
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send({ topic: f.topic.value, payload: f.payload.value, qos: Number(f.qos.value), retain: f.retain.checked });
  });
  $('#publish-history-clear').addEventListener('click', () => {
    history = [];
    save('publishHistory', history);
    renderHistory();
  });

  checkJson();
  renderHistory();
  return { edit: (topic, payload) => edit({ topic, payload, qos: Number(f.qos.value), retain: false }) };
}
