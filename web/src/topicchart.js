// Topics over time: any topic whose payloads are numbers ("21.5", "-3", "1e3", a JSON
// number), charted against arrival time, several topics in one chart. A topic is added
// from the message table or the topic tree; it starts with the values the tree still
// holds of it and goes on with every message received.
//
// Each topic keeps at most MAX_POINTS (time, value) pairs. uPlot wants one x shared by
// all lines, so a redraw merges the topics' times (each sorted already) and leaves
// gaps where a topic has no value at a time; lines span the gaps.
import uPlot from './vendor/uPlot.esm.js';
import { $, el, count, announce, numericValue } from './util.js';

const MAX_TOPICS = 10;
const MAX_POINTS = 10000;
const CHART_HEIGHT = 280;
const REDRAW_MS = 250;
// The plots' colour cycle (matplotlib's), so a line looks the same everywhere.
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function setupTopicChart(history) {
  const panel = $('#panel-plots');
  const box = $('#topic-chart');
  const topics = new Map(); // topic -> {t: [], v: [], color}
  let chart = null;
  let timer = null;
  let dirty = false;

  const points = (topic, value, ms) => {
    const s = topics.get(topic);
    // Arrival times only go forward within one topic; a clock step back is kept in order.
    const t = Math.max(ms / 1000, s.t.length ? s.t[s.t.length - 1] : -Infinity);
    s.t.push(t);
    s.v.push(value);
    if (s.t.length > MAX_POINTS * 1.25) { // trim in batches, not per point
      s.t.splice(0, s.t.length - MAX_POINTS);
      s.v.splice(0, s.v.length - MAX_POINTS);
    }
  };

  /** x: every topic's times merged; y per topic, null where it has no value then. */
  const aligned = () => {
    const list = Array.from(topics.values());
    const at = list.map(() => 0);
    const xs = [];
    const ys = list.map(() => []);
    for (;;) {
      let t = Infinity;
      list.forEach((s, i) => { if (at[i] < s.t.length && s.t[at[i]] < t) t = s.t[at[i]]; });
      if (t === Infinity) break;
      xs.push(t);
      list.forEach((s, i) => {
        if (at[i] < s.t.length && s.t[at[i]] === t) ys[i].push(s.v[at[i]++]);
        else ys[i].push(null);
      });
    }
    return [xs, ...ys];
  };

  const renderTopics = () => {
    const ul = $('#topic-chart-topics');
    ul.replaceChildren();
    for (const [topic, s] of topics) {
      const swatch = el('span', { class: 'swatch-dot', 'aria-hidden': 'true' });
      swatch.style.setProperty('background', s.color);
      ul.append(el('li', { dataset: { topic } },
        el('span', { class: 'chip' }, swatch, ` ${topic} `, el('span', { class: 'muted' }, `${count(s.t.length)} values`),
          el('button', { type: 'button', class: 'icon', 'aria-label': `Stop charting ${topic}`, onclick: () => remove(topic) }, '×'))));
    }
    $('#topic-chart-empty').hidden = topics.size > 0;
    box.hidden = topics.size === 0;
  };

  const make = () => {
    const list = Array.from(topics.entries());
    chart = new uPlot({
      width: box.clientWidth || 600,
      height: CHART_HEIGHT,
      scales: { x: { time: true } },
      series: [{ label: 'time' }, ...list.map(([topic, s]) => ({
        label: topic, stroke: s.color, width: 1.5, spanGaps: true, points: { show: false },
      }))],
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
      ],
      legend: { live: true },
    }, aligned(), box);
  };

  const draw = () => {
    timer = null;
    if (!dirty || panel.hidden || !topics.size) return;
    dirty = false;
    if (!chart) make();
    else chart.setData(aligned());
    box.dataset.points = String(chart.data[0].length);
    box.dataset.lines = String(topics.size);
    renderTopics();
  };

  const schedule = (rebuild = false) => {
    if (rebuild && chart) {
      chart.destroy();
      chart = null;
    }
    dirty = true;
    if (!timer) timer = setTimeout(draw, REDRAW_MS);
  };

  const add = (topic) => {
    if (topics.has(topic)) return announce(`${topic} is already charted (Plots tab)`, 'info');
    if (topics.size >= MAX_TOPICS) return announce(`At most ${MAX_TOPICS} topics in the chart`, 'error');
    const used = new Set(Array.from(topics.values(), (s) => s.color));
    topics.set(topic, { t: [], v: [], color: COLORS.find((c) => !used.has(c)) || COLORS[topics.size % COLORS.length] });
    for (const h of history(topic)) {
      const v = numericValue(h.text);
      if (v !== null) points(topic, v, h.time);
    }
    renderTopics();
    schedule(true);
    announce(`Charting ${topic} (Plots tab)`, 'ok');
  };

  const remove = (topic) => {
    topics.delete(topic);
    renderTopics();
    schedule(true);
  };

  $('#topic-chart-clear').addEventListener('click', () => {
    topics.clear();
    renderTopics();
    schedule(true);
  });
  new ResizeObserver(() => {
    if (chart && box.clientWidth && chart.width !== box.clientWidth) chart.setSize({ width: box.clientWidth, height: CHART_HEIGHT });
  }).observe(box);
  new MutationObserver(() => schedule()).observe(panel, { attributes: true, attributeFilter: ['hidden'] });
  renderTopics();

  return {
    add,
    /** A decoded message of the user's subscriptions. */
    receive(m) {
      if (!topics.has(m.topic) || m.binary) return;
      const v = numericValue(m.text);
      if (v === null) return;
      points(m.topic, v, m.time);
      schedule();
    },
    /** What the chart shows (used by the console's own tests). */
    inspect: () => ({
      topics: Array.from(topics.keys()), points: chart ? chart.data[0].length : 0,
      time: chart ? chart.scales.x.time : null, colors: Array.from(topics.values(), (s) => s.color),
    }),
  };
}
