// Plots panel: iot-plot sessions and series seen on the broker (`<session>/new_series`,
// `<session>/data`, `<session>/plot_series`, `<session>/save_series`), each series drawn
// live with uPlot, and links to the files the plot server wrote (served under /plots/).
//
// Where the broker needs logins, a user reads and writes only topics of their own
// (mosquitto's `pattern readwrite %u/#`), so the panel also subscribes to `<user>/#`,
// and the plot server files each user's output under `/plots/<user>/`, which the broker
// serves to that user only: links then fetch with the console's login (HTTP Basic).
//
// Series the plot server stored before the page was opened are listed from the broker's
// HTTP API and loaded on demand (stored.js). A chart takes its title and axis labels
// from the series' latest plot_series.
//
// Rows go into one Float64Array per column, grown by doubling, so a million points cost
// a few copies in total; charts redraw at most once per animation frame, less often when
// a redraw is slow, and only while they are on screen.
import uPlot from './vendor/uPlot.esm.js';
import { $, el, count, announce, csvField } from './util.js';
import { basicAuth, serverOffers, setupStored } from './stored.js';

const MAX_SESSIONS = 100;
const MAX_SERIES = 500;
const MAX_COLUMNS = 32;
const MAX_ROWS = 1 << 23; // 8,388,608 rows per series
const FIRST_CAP = 1024;
const CHART_HEIGHT = 280;
const FILES_URL = '/plots/';
const COMMANDS = ['new_series', 'data', 'plot_series', 'save_series'];
// matplotlib's default colour cycle, like the plot server's rendered files.
// Axis steps for a row index: whole numbers only.
const INDEX_STEPS = [1, 2, 5].flatMap((m) => Array.from({ length: 10 }, (_, e) => m * 10 ** e)).sort((a, b) => a - b);
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

class Series {
  constructor(session, name, columns, guessed) {
    this.session = session;
    this.name = name;
    this.columns = columns;
    this.guessed = guessed; // columns invented because new_series was not seen
    this.dropped = 0;
    this.title = '';
    this.xlabel = '';
    this.ylabel = '';
    this.x = ''; // plot_series' x: 'first', 'received', or '' (the rule, see xmode)
    this.utc = false;
    this.follow = null; // loaded from the store: how new rows are fetched (stored.js)
    this.reset();
  }

  reset() {
    this.n = 0;
    this.cap = FIRST_CAP;
    this.cols = this.columns.map(() => new Float64Array(this.cap));
    this.index = this.columns.length === 1 ? new Float64Array(this.cap) : null;
    this.times = new Float64Array(this.cap); // arrival, seconds since the epoch
    // Whether x never decreased, for uPlot's fast path (binary search, range from the
    // ends): the first column's, and the arrival times' (a clock may step back).
    this.sorted = true;
    this.timesSorted = true;
    this.xmin = Infinity; // of the first column
    this.xmax = -Infinity;
    this.tmin = Infinity; // of the arrival times
    this.tmax = -Infinity;
    this.cmin = this.columns.map(() => Infinity); // of each column
    this.cmax = this.columns.map(() => -Infinity);
    // Loaded from the store (stored.js): the next row to read, how many rows the store
    // should have by the messages seen, and a version it must have gone past.
    this.storedNext = 0;
    this.expected = 0;
    this.staleVersion = this.storedVersion || 0;
    this.dirty = true;
  }

  grow() {
    const cap = Math.min(this.cap * 2, MAX_ROWS);
    const bigger = (a) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.cols = this.cols.map(bigger);
    this.times = bigger(this.times);
    if (this.index) this.index = bigger(this.index);
    this.cap = cap;
  }

  /**
   * Append one row of numbers that arrived at `time` (seconds since the epoch: the
   * store's arrival time, or this page's for a live message); false when the row does
   * not fit this series.
   */
  push(values, time) {
    if (values.length !== this.cols.length) return false;
    if (this.n === this.cap) {
      if (this.cap >= MAX_ROWS) return false;
      this.grow();
    }
    const i = this.n;
    for (let c = 0; c < values.length; c++) {
      const v = values[c];
      this.cols[c][i] = v;
      if (v < this.cmin[c]) this.cmin[c] = v;
      if (v > this.cmax[c]) this.cmax[c] = v;
    }
    if (i > 0 && time < this.times[i - 1]) this.timesSorted = false;
    this.times[i] = time;
    if (time < this.tmin) this.tmin = time;
    if (time > this.tmax) this.tmax = time;
    const x = this.index ? i : values[0];
    if (this.index) this.index[i] = i;
    else if (i > 0 && x < this.cols[0][i - 1]) this.sorted = false;
    if (x < this.xmin) this.xmin = x;
    if (x > this.xmax) this.xmax = x;
    this.n = i + 1;
    this.dirty = true;
    return true;
  }

  /**
   * What x is, by the rule of the plot server's figures (docs/iot-plot-protocol.md):
   * plot_series' x when it chose one ('first': the first column, or the row index of a
   * one-column series); else the arrival time when there is no x column worth plotting
   * (one column, or a first column that goes back somewhere), the first column otherwise.
   * 'index', 'first' or 'received'.
   */
  xmode() {
    if (this.x === 'first') return this.index ? 'index' : 'first';
    if (this.x === 'received' || this.index || !this.sorted) return 'received';
    return 'first';
  }

  /** Whether x, as xmode() has it, never decreased. */
  xSorted(mode) {
    return mode === 'received' ? this.timesSorted : mode === 'first' ? this.sorted : true;
  }

  /** The columns drawn as lines: all but the first when the first is x. */
  yColumns(mode) {
    return mode === 'first' ? this.columns.slice(1) : this.columns;
  }

  /** uPlot's data: x first (the first column, the row index or the arrival times). */
  data() {
    const n = this.n;
    const mode = this.xmode();
    if (mode === 'index') return [this.index.subarray(0, n), this.cols[0].subarray(0, n)];
    if (mode === 'first') return this.cols.map((c) => c.subarray(0, n));
    return [this.times.subarray(0, n), ...this.cols.map((c) => c.subarray(0, n))];
  }

  /** The rows with their arrival time last (ISO 8601, UTC), as the plot server's CSV. */
  csv() {
    const lines = [[...this.columns, 'received'].map(csvField).join(',')];
    for (let i = 0; i < this.n; i++) {
      lines.push([...this.cols.map((c) => c[i]), new Date(this.times[i] * 1000).toISOString()].join(','));
    }
    return lines.join('\n') + '\n';
  }
}

/** A JSON array payload, or null. */
function parseArray(text) {
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Numbers of a data row (booleans as 0/1), or null when a value is not a number. */
function numbers(values) {
  const out = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) out[i] = v;
    else if (typeof v === 'boolean') out[i] = v ? 1 : 0;
    else return null;
  }
  return out;
}

function unsortedRange(series, mode) {
  const [lo, hi] = mode === 'received' ? [series.tmin, series.tmax] : [series.xmin, series.xmax];
  const pad = hi > lo ? 0 : 1;
  return [lo - pad, hi + pad];
}

function unsortedYRange(series, mode) {
  const from = mode === 'first' ? 1 : 0;
  const ymin = Math.min(...series.cmin.slice(from));
  const ymax = Math.max(...series.cmax.slice(from));
  const span = ymax - ymin;
  const pad = span > 0 ? span * 0.05 : Math.abs(ymax) * 0.1 || 1;
  return [ymin - pad, ymax + pad];
}

// uPlot picks the rows to draw by binary search on x, which needs x sorted; a series
// whose x goes back draws all its rows instead.
const allRows = (builder) => (u, i) => builder(u, i, 0, u.data[0].length - 1);

function fileUrl(name) {
  return FILES_URL + name.split('/').filter((p) => p && p !== '.' && p !== '..').map(encodeURIComponent).join('/');
}

export function setupPlots(link) {
  const panel = $('#panel-plots');
  const sessions = new Map(); // name -> {name, series: Map, files: Map(name -> kind), chip, section}
  const all = new Map(); // session \0 name -> Series
  let shown = '*'; // session shown, or '*' for all
  let frame = 0;
  let problems = 0;
  // How files are read: open (plain links) or private (the user's folder, with the login).
  // Asked of the broker once per login, when the first file is announced.
  const access = { private: false, checked: false, user: '', password: '' };
  const checkAccess = async () => {
    if (access.checked || !access.user) return;
    access.checked = true;
    const user = access.user;
    const priv = (await serverOffers()).private;
    if (user !== access.user) return; // another login meanwhile
    access.private = priv;
    const note = $('#plots-access');
    note.hidden = !priv;
    note.textContent = priv ? `Files are read from /plots/${user}/ with this login: the broker serves each user their own files only.` : '';
    if (priv) for (const series of all.values()) renderCard(series);
  };

  const session = (name) => {
    let s = sessions.get(name);
    if (!s) {
      if (sessions.size >= MAX_SESSIONS) return null;
      s = { name, series: new Map(), files: new Map() };
      sessions.set(name, s);
      renderSessions();
    }
    return s;
  };

  const problem = (sess, command, text) => {
    problems++;
    $('#plots-problems').textContent = `${count(problems)} messages ignored · last: ${sess}/${command}: ${text}`;
    $('#plots-problems').hidden = false;
  };

  const define = (s, name, columns, guessed) => {
    const key = `${s.name}\u0000${name}`;
    let series = all.get(key);
    if (series) {
      series.columns = columns;
      series.guessed = guessed;
      series.dropped = 0;
      series.reset();
      destroyChart(series);
      renderCard(series);
      return series;
    }
    if (all.size >= MAX_SERIES) return null;
    series = new Series(s.name, name, columns, guessed);
    all.set(key, series);
    s.series.set(name, series);
    renderCard(series);
    renderSessions();
    return series;
  };

  /** One iot-plot message (command is the last topic level). */
  const handle = (sessName, command, text) => {
    if (!COMMANDS.includes(command)) return; // <user>/# brings the user's other topics too
    const args = parseArray(text);
    if (!args || typeof args[0] !== 'string') return problem(sessName, command, 'payload is not [name, ...]');
    const s = session(sessName);
    if (!s) return;
    const name = args[0];
    if (command === 'new_series') {
      const columns = args.slice(1);
      if (!columns.length || columns.length > MAX_COLUMNS || !columns.every((c) => typeof c === 'string')) {
        return problem(sessName, command, `bad column names for ${name}`);
      }
      define(s, name, columns, false);
    } else if (command === 'data') {
      const row = numbers(args.slice(1));
      if (!row || !row.length || row.length > MAX_COLUMNS) return problem(sessName, command, `row of ${name} is not numbers`);
      let series = s.series.get(name);
      if (series && series.follow) return series.follow(); // the store has it, in order
      if (!series) series = define(s, name, row.map((_, i) => `column ${i + 1}`), true);
      if (!series) return;
      if (!series.push(row, Date.now() / 1000)) series.dropped++;
      schedule();
    } else if (command === 'plot_series' || command === 'save_series') {
      const opts = args[1];
      let file = command === 'plot_series'
        ? (opts && typeof opts === 'object' && typeof opts.filename === 'string' ? opts.filename : `${name}.pdf`)
        : (typeof opts === 'string' ? opts : `${name}.pkl`);
      file = file.replace(/^\/+/, '');
      const series = s.series.get(name);
      if (series && command === 'plot_series' && opts && typeof opts === 'object') labels(series, opts);
      if (!file) return;
      s.files.set(file, name);
      checkAccess();
      if (series) renderCard(series);
      renderSessions();
    }
  };

  // --- sessions list -------------------------------------------------------------------

  const renderSessions = () => {
    const list = $('#plot-sessions');
    list.replaceChildren();
    const chip = (key, label, detail) => el('li', {},
      el('button', {
        type: 'button', class: 'chip', 'aria-pressed': String(shown === key), dataset: { session: key },
        onclick: () => { shown = key; renderSessions(); applyFilter(); },
      }, label, el('span', { class: 'muted' }, ` ${detail}`)));
    list.append(chip('*', 'All sessions', `(${sessions.size})`));
    for (const s of Array.from(sessions.values()).sort((a, b) => a.name.localeCompare(b.name))) {
      list.append(chip(s.name, s.name, `· ${s.series.size} series`));
    }
    $('#plots-empty').hidden = all.size > 0;
  };

  const applyFilter = () => {
    for (const series of all.values()) {
      if (series.card) series.card.hidden = shown !== '*' && shown !== series.session;
    }
    schedule();
  };

  // --- cards and charts ----------------------------------------------------------------

  const renderCard = (series) => {
    if (!series.card) {
      series.chartBox = el('div', { class: 'chart', dataset: { points: '0' } });
      series.info = el('span', { class: 'series-info' });
      series.files = el('span', { class: 'series-files' });
      series.card = el('article', { class: 'series-card', dataset: { session: series.session, series: series.name } },
        el('header', { class: 'series-head' },
          el('h3', {}, el('span', { class: 'muted' }, `${series.session} / `), series.name),
          series.info,
          el('span', { class: 'series-actions' },
            el('button', { type: 'button', class: 'mini', onclick: () => resetZoom(series), 'aria-label': `Reset zoom of ${series.name}` }, 'Reset zoom'),
            el('button', { type: 'button', class: 'mini', onclick: () => download(series), 'aria-label': `Download ${series.name} as CSV` }, 'CSV'))),
        series.files,
        series.chartBox);
      $('#plot-cards').append(series.card);
      series.card.hidden = shown !== '*' && shown !== series.session;
    }
    const sess = sessions.get(series.session);
    series.files.replaceChildren();
    for (const [file, owner] of sess ? sess.files : []) {
      if (owner !== series.name) continue;
      const ext = (file.split('.').pop() || '').toUpperCase();
      series.files.append(fileLink(file, `${ext} ${file}`));
    }
    updateInfo(series);
    schedule();
  };

  /** A link to a file: plain, or (private) one that fetches it with the login. */
  const fileLink = (file, label) => {
    if (!access.private) return el('a', { href: fileUrl(file), target: '_blank', rel: 'noopener', class: 'file-link' }, label);
    const url = fileUrl(`${access.user}/${file}`);
    const a = el('a', { href: url, class: 'file-link', dataset: { private: 'true' } }, label);
    a.addEventListener('click', async (e) => {
      e.preventDefault();
      let r;
      try {
        r = await fetch(url, { headers: { Authorization: basicAuth(access.user, access.password) }, credentials: 'omit', cache: 'no-store' });
      } catch (err) {
        a.dataset.status = 'error';
        return announce(`Cannot fetch ${file}: ${err.message || err}`, 'error');
      }
      a.dataset.status = String(r.status);
      if (!r.ok) return announce(`${file}: ${r.status} ${r.statusText || ''}`.trim(), 'error');
      const blob = await r.blob();
      a.dataset.bytes = String(blob.size);
      const save = el('a', { href: URL.createObjectURL(blob), download: file.split('/').pop() });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(save.href), 10000);
    });
    return a;
  };

  const updateInfo = (series) => {
    series.info.textContent = `${series.columns.join(', ')}${series.guessed ? ' (names not seen)' : ''} · ${count(series.n)} rows` +
      (series.dropped ? ` · ${count(series.dropped)} rows ignored` : '');
    series.card.dataset.rows = String(series.n);
  };

  /**
   * Title, axis labels, x and utc of a plot_series (its options object, or a stored
   * series' entry); the chart is made again when they change.
   */
  const labels = (series, opts) => {
    const text = (v) => (typeof v === 'string' ? v.slice(0, 200) : '');
    const [title, xlabel, ylabel] = [text(opts.title), text(opts.xlabel), text(opts.ylabel)];
    const x = opts.x === 'first' || opts.x === 'received' ? opts.x : '';
    const utc = opts.utc === true;
    if (title === series.title && xlabel === series.xlabel && ylabel === series.ylabel &&
        x === series.x && utc === series.utc) return;
    Object.assign(series, { title, xlabel, ylabel, x, utc });
    destroyChart(series);
    series.dirty = true;
    if (series.card) series.card.dataset.title = title;
    schedule();
  };

  const destroyChart = (series) => {
    if (series.chart) series.chart.destroy();
    series.chart = null;
    series.zoomed = false;
  };

  const resetZoom = (series) => {
    series.zoomed = false;
    series.dirty = true;
    schedule();
  };

  const download = (series) => {
    const blob = new Blob([series.csv()], { type: 'text/csv' });
    const a = el('a', { href: URL.createObjectURL(blob), download: `${series.session}-${series.name}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  };

  /** What a chart was made for: made again when it changes. */
  const chartKey = (series) => {
    const mode = series.xmode();
    return `${mode} ${series.xSorted(mode)}`;
  };

  const makeChart = (series, width) => {
    const mode = series.xmode();
    const sorted = series.xSorted(mode);
    const time = mode === 'received';
    const ys = series.yColumns(mode);
    const xLabel = mode === 'index' ? 'row' : time ? 'received' : series.columns[0];
    const opts = {
      ...(series.title ? { title: series.title } : {}),
      width,
      height: CHART_HEIGHT,
      // Arrival times are seconds since the epoch, labelled in local time unless utc.
      ...(time && series.utc ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') } : {}),
      // x that goes back (a sweep, a scatter) is drawn in row order like matplotlib does;
      // uPlot would take the range from the first and last x, so give it the real one.
      scales: sorted ? { x: { time } } : {
        x: { time, range: (u, min, max) => (series.zoomed ? [min, max] : unsortedRange(series, mode)) },
        y: { range: () => unsortedYRange(series, mode) },
      },
      series: [{ label: xLabel }, ...ys.map((c, i) => ({
        label: c, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false },
        ...(sorted ? {} : { paths: allRows(uPlot.paths.linear()) }),
      }))],
      axes: [
        { label: series.xlabel || xLabel, stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, ...(mode === 'index' ? { incrs: INDEX_STEPS } : {}) },
        { ...(series.ylabel ? { label: series.ylabel } : {}), stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [() => { series.zoomed = true; }],
        draw: [() => drawn(series)],
      },
    };
    series.chart = new uPlot(opts, series.data(), series.chartBox);
    series.chartKey = chartKey(series);
    series.chart.root.addEventListener('dblclick', () => resetZoom(series));
  };

  /** Redraw dirty, visible charts; slow redraws wait longer before the next one. */
  const draw = () => {
    frame = 0;
    if (stored && !storedAsked && !panel.hidden) {
      storedAsked = true;
      stored.refresh();
    }
    if (panel.hidden) return;
    const now = performance.now();
    let pending = false;
    for (const series of all.values()) {
      if (!series.dirty || series.card.hidden) continue;
      if (now < (series.nextDraw || 0)) {
        pending = true;
        continue;
      }
      const width = series.chartBox.clientWidth;
      if (!width) continue;
      series.drawStart = performance.now();
      series.drawing = series.n;
      series.dirty = false;
      if (series.chart && series.chartKey !== chartKey(series)) destroyChart(series);
      if (!series.chart) makeChart(series, width);
      else series.chart.setData(series.data(), !series.zoomed);
      updateInfo(series);
    }
    if (pending) schedule();
  };

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  // The store's series: listed when the panel is first shown after each connect.
  let storedAsked = false;
  const stored = setupStored({
    define: (sess, name, columns) => {
      const s = session(sess);
      return s ? define(s, name, columns, false) : null;
    },
    labels,
    drawn: (series) => {
      series.dirty = true;
      schedule();
    },
  }, () => ({ user: access.user, password: access.password }));

  /** uPlot drew (it commits after setData returns): time it, expose the points drawn. */
  const drawn = (series) => {
    if (series.drawStart === undefined) return;
    const cost = performance.now() - series.drawStart;
    series.drawStart = undefined;
    series.nextDraw = performance.now() + Math.min(1000, cost * 3);
    series.chartBox.dataset.points = String(series.drawing);
    series.chartBox.dataset.drawMs = cost.toFixed(1);
  };

  new ResizeObserver(() => {
    for (const series of all.values()) {
      if (series.chart && series.chartBox.clientWidth && series.chart.width !== series.chartBox.clientWidth) {
        series.chart.setSize({ width: series.chartBox.clientWidth, height: CHART_HEIGHT });
      }
    }
  }).observe($('#plot-cards'));
  new MutationObserver(schedule).observe(panel, { attributes: true, attributeFilter: ['hidden'] });

  $('#plots-forget').addEventListener('click', () => {
    for (const series of all.values()) {
      destroyChart(series);
      series.card.remove();
    }
    all.clear();
    sessions.clear();
    shown = '*';
    problems = 0;
    $('#plots-problems').hidden = true;
    renderSessions();
    announce('Forgot all plot sessions', 'ok');
  });

  for (const command of COMMANDS) link.subscribe('plots', `+/${command}`, 0);
  // The sessions are "everything before the last level", as the plot server reads them.
  const split = (topic) => {
    const cut = topic.lastIndexOf('/');
    return [topic.slice(0, cut), topic.slice(cut + 1)];
  };
  link.onGroup('plots', (m) => {
    const [sess, command] = split(m.topic);
    handle(sess, command, new TextDecoder().decode(m.payload));
  });
  // A login reads its own topics even where '+/data' is refused: subscribe to them too.
  let userFilter = '';
  link.addEventListener('state', (e) => {
    const { state } = e.detail;
    if (state === 'connecting') {
      const want = link.username && !/[+#\u0000]/.test(link.username) ? `${link.username}/#` : '';
      if (want !== userFilter) {
        if (userFilter) link.unsubscribe('plots', userFilter);
        if (want) link.subscribe('plots', want, 0);
        userFilter = want;
      }
      Object.assign(access, { private: false, checked: false, user: link.username, password: link.password });
      $('#plots-access').hidden = true;
    }
    if (state === 'connected') {
      storedAsked = false;
      schedule();
    }
  });
  renderSessions();

  return {
    /** What a series' chart shows (used by the console's own tests). */
    inspect: (sess, name) => {
      const series = all.get(`${sess}\u0000${name}`);
      if (!series) return null;
      const sc = series.chart ? series.chart.scales : {};
      return {
        rows: series.n, sorted: series.sorted, title: series.title, stored: Boolean(series.follow),
        x: series.xmode(), time: sc.x ? sc.x.time : null,
        // uPlot's own record of the x axis it drew: tick positions and their labels.
        xSplits: series.chart ? series.chart.axes[0]._splits || [] : [],
        xTicks: series.chart ? series.chart.axes[0]._values || [] : [],
        axisLabels: series.chart ? series.chart.axes.map((a) => a.label || '') : [],
        xmin: sc.x ? sc.x.min : null, xmax: sc.x ? sc.x.max : null, ymin: sc.y ? sc.y.min : null, ymax: sc.y ? sc.y.max : null,
      };
    },
    /** Feed one message as if it came from the broker (used by the console's own tests). */
    inject: (topic, text) => {
      const [sess, command] = split(topic);
      handle(sess, command, text);
    },
    /** How files are read (used by the console's own tests). */
    access: () => ({ private: access.private, user: access.user }),
  };
}
