// The live dashboard: reads /api/kpis, /api/series and /api/top from the
// `adtally serve` that served this page and redraws every few seconds.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { formatValue, KPI_KIND } from './format.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale,
  LineController, LineElement, PointElement, Tooltip);

const DIMS = ['job', 'campaign', 'company', 'publisher'];
const HOUR_RE = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
const ID_RE = /^\d{1,10}$/;

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// What the page shows: a range (none: the latest 24 h with data), filters
// by id with the names seen for them, and the ranking of the top lists.
const state = {
  from: '',
  to: '',
  filters: {},
  names: {},
  by: 'spend',
  refreshMs: 5000,
  timer: null,
  generation: 0,
};

function readLocation() {
  const p = new URLSearchParams(window.location.search);
  if (HOUR_RE.test(p.get('from') || '')) state.from = p.get('from');
  if (HOUR_RE.test(p.get('to') || '')) state.to = p.get('to');
  for (const d of DIMS) {
    if (ID_RE.test(p.get(d) || '')) state.filters[d] = p.get(d);
  }
  if (p.get('by') === 'clicks') state.by = 'clicks';
  const r = Number(p.get('refresh'));
  if (Number.isInteger(r) && r >= 1 && r <= 300) state.refreshMs = r * 1000;
}

function writeLocation() {
  const p = new URLSearchParams();
  if (state.from) p.set('from', state.from);
  if (state.to) p.set('to', state.to);
  for (const d of DIMS) if (state.filters[d]) p.set(d, state.filters[d]);
  if (state.by !== 'spend') p.set('by', state.by);
  if (state.refreshMs !== 5000) p.set('refresh', state.refreshMs / 1000);
  const q = p.toString();
  window.history.replaceState(null, '', q ? `?${q}` : window.location.pathname);
}

// The API's query for the filters and a range (explicit or the page's).
function apiQuery(range, extra = {}) {
  const p = new URLSearchParams();
  const from = range ? range.from : state.from;
  const to = range ? range.to : state.to;
  if (from) p.set('from', from);
  if (to) p.set('to', to);
  for (const d of DIMS) if (state.filters[d]) p.set(d, state.filters[d]);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}

async function getJSON(path, query) {
  const res = await fetch(query ? `${path}?${query}` : path, {
    cache: 'no-store',
    headers: { Accept: 'application/json' },
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    throw new Error(body && body.error ? body.error : `HTTP ${res.status}`);
  }
  return body;
}

function setStatus(kind, text) {
  const el = $('#status');
  el.dataset.state = kind;
  $('#status-text').textContent = text;
}

function showError(msg) {
  const el = $('#error');
  el.hidden = !msg;
  el.textContent = msg ? `The API said: ${msg}` : '';
}

function renderRange(r) {
  const el = $('#range');
  el.dataset.from = r.from;
  el.dataset.to = r.to;
  el.textContent = `${r.from}:00 → ${r.to}:59 · ${r.hours} h` +
    (state.from || state.to ? '' : ' (latest with data)');
  for (const id of ['from', 'to']) {
    const input = $(`#${id}`);
    if (document.activeElement !== input) input.value = r[id];
  }
}

function renderKpis(k) {
  for (const el of $$('.kpi')) {
    const name = el.dataset.kpi;
    const v = k.kpis[name];
    const value = $('.value', el);
    value.dataset.value = v === null ? '' : String(v);
    value.textContent = formatValue(KPI_KIND[name], v);
  }
}

let chart = null;

function renderSeries(s) {
  const labels = s.points.map(
    (p) => `${p.hour.slice(5, 10)} ${p.hour.slice(11)}h`);
  const pick = (key) => s.points.map((p) => Number(p[key]));
  const box = $('#series');
  box.dataset.points = String(s.points.length);
  const sum = (key) => pick(key).reduce((a, b) => a + b, 0);
  box.dataset.clicks = String(sum('clicks'));
  box.dataset.impressions = String(sum('impressions'));
  const line = (label, key, color) => ({
    type: 'line', label, data: pick(key), yAxisID: 'y', borderColor: color,
    backgroundColor: color, pointRadius: 0, tension: 0.2,
  });
  const datasets = [
    line('Impressions', 'impressions', '#3b82f6'),
    line('Clicks', 'clicks', '#f59e0b'),
    line('Conversions', 'conversions', '#10b981'),
    { type: 'bar', label: 'Spend', data: pick('spend'), yAxisID: 'y1',
      backgroundColor: 'rgba(139, 92, 246, 0.35)' },
  ];
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets.forEach((d, i) => { d.data = datasets[i].data; });
    chart.update('none');
    return;
  }
  chart = new Chart($('#series-chart'), {
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: 'count' } },
        y1: {
          beginAtZero: true,
          position: 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'spend' },
        },
        x: { ticks: { maxTicksLimit: 12 } },
      },
    },
  });
}

function renderTop(dim, t) {
  const body = $(`.top[data-dim="${dim}"] tbody`);
  const other = state.by === 'spend' ? 'clicks' : 'spend';
  const kind = (key) => (key === 'spend' ? 'money' : 'int');
  const max = Math.max(0, ...t.rows.map((r) => Number(r[state.by])));
  body.replaceChildren();
  if (t.rows.length === 0) {
    const tr = body.insertRow();
    const td = tr.insertCell();
    td.colSpan = 3;
    td.className = 'empty';
    td.textContent = 'no data in this range';
    return;
  }
  t.rows.forEach((r) => {
    const tr = body.insertRow();
    tr.dataset.id = r.id === null ? '' : String(r.id);
    tr.dataset.value = String(r[state.by]);
    const name = r.name || (r.id === null ? '(unknown)' : `#${r.id}`);
    const cell = tr.insertCell();
    cell.className = 'name';
    if (r.id !== null) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = name;
      b.title = `Filter by ${dim} ${r.id}`;
      b.addEventListener('click', () => addFilter(dim, String(r.id), name));
      cell.append(b);
    } else {
      cell.textContent = name;
    }
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${max > 0 ? (100 * Number(r[state.by])) / max : 0}%`;
    cell.append(bar);
    const main = tr.insertCell();
    main.className = 'num main';
    main.textContent = formatValue(kind(state.by), r[state.by]);
    const sub = tr.insertCell();
    sub.className = 'num';
    const unit = Number(r[other]) === 1 && other === 'clicks' ? 'click' : other;
    sub.textContent = `${formatValue(kind(other), r[other])} ${unit}`;
  });
}

function renderFilters() {
  const box = $('#filters');
  box.replaceChildren();
  for (const d of DIMS) {
    const id = state.filters[d];
    if (!id) continue;
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.dataset.dim = d;
    chip.textContent = `${d}: ${state.names[`${d}:${id}`] || `#${id}`} ✕`;
    chip.title = `Remove the ${d} filter`;
    chip.addEventListener('click', () => {
      delete state.filters[d];
      changed();
    });
    box.append(chip);
  }
}

// A filter set from the address shows its name once a top list has it.
function learnNames(tops) {
  let learnt = false;
  DIMS.forEach((d, i) => {
    const id = state.filters[d];
    const row = id && tops[i].rows.find((r) => String(r.id) === id);
    if (row && row.name && state.names[`${d}:${id}`] !== row.name) {
      state.names[`${d}:${id}`] = row.name;
      learnt = true;
    }
  });
  if (learnt) renderFilters();
}

function addFilter(dim, id, name) {
  state.filters[dim] = id;
  state.names[`${dim}:${id}`] = name;
  changed();
}

function changed() {
  writeLocation();
  renderFilters();
  refresh();
}

// One refresh: the KPIs first, so that the series and the top lists use
// the very range the KPIs were computed for.
async function refresh() {
  const gen = ++state.generation;
  clearTimeout(state.timer);
  try {
    const k = await getJSON('/api/kpis', apiQuery(null));
    const range = k.range;
    const [s, ...tops] = await Promise.all([
      getJSON('/api/series', apiQuery(range)),
      ...DIMS.map((d) => getJSON('/api/top',
        apiQuery(range, { dim: d, by: state.by, limit: 10 }))),
    ]);
    if (gen !== state.generation) return;
    renderRange(range);
    renderKpis(k);
    renderSeries(s);
    DIMS.forEach((d, i) => renderTop(d, tops[i]));
    learnNames(tops);
    showError('');
    document.body.dataset.loaded = String(gen);
    const now = new Date().toLocaleTimeString('en-GB');
    setStatus('live', `live · updated ${now}`
      + (k.latest_update ? ` · data written ${k.latest_update}` : ''));
  } catch (e) {
    if (gen !== state.generation) return;
    showError(e.message);
    setStatus('error', 'not updating');
  } finally {
    if (gen === state.generation) {
      state.timer = setTimeout(refresh, state.refreshMs);
    }
  }
}

function setup() {
  readLocation();
  $('#every').textContent = String(state.refreshMs / 1000);
  $('#range-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const from = $('#from').value.trim();
    const to = $('#to').value.trim();
    if ((from && !HOUR_RE.test(from)) || (to && !HOUR_RE.test(to))) {
      showError('hours look like 2022-07-20T13');
      return;
    }
    state.from = from;
    state.to = to;
    changed();
  });
  $('#latest').addEventListener('click', () => {
    state.from = '';
    state.to = '';
    changed();
  });
  for (const b of $$('.by button')) {
    b.classList.toggle('on', b.dataset.by === state.by);
    b.addEventListener('click', () => {
      state.by = b.dataset.by;
      for (const o of $$('.by button')) o.classList.toggle('on', o === b);
      changed();
    });
  }
  renderFilters();
  refresh();
}

setup();
