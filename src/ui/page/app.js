// The dashboard page. One WebSocket (/live) brings a snapshot of every row so far, then new
// rows every 100 ms, health each second, and `done` when the run is over. Plain JavaScript
// served as is (no build step, no framework): the page is a few charts and one table.
// Charts are TradingView's lightweight-charts v5 (window.LightweightCharts, served locally).
const LWC = window.LightweightCharts;
const UP = '#26a69a';
const DOWN = '#ef5350';
const OVERLAY_COLORS = { sma: ['#4f8ff7', '#8ab4f8', '#1a5fd0'], ema: ['#f0883e', '#f7b27a', '#c2621d'] };

const state = {
  info: null,
  interval: null,
  /** market key → interval → window_start → candle row (a later row for a window replaces it). */
  candles: new Map(),
  indicators: new Map(),
  arbitrage: [],
  late: [],
  gaps: [],
  decodeErrors: [],
  done: false,
  /** What came over the socket after the snapshot (the live test reads it). */
  received: { snapshot: 0, messages: 0, candles: 0 },
};
const marketCards = new Map();
const spreadCards = new Map();

const $ = (id) => document.getElementById(id);
const marketKey = (r) => `${r.exchange} ${r.symbol}`;

function intervalMs(name) {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(name);
  if (!m) return 60_000;
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]];
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

/** Chart time (UTC seconds) → `2024-08-09 12:00:10`, always UTC. */
function utc(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function byKey(map, key, interval) {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  let w = m.get(interval);
  if (!w) m.set(interval, (w = new Map()));
  return w;
}

/** Adds a batch of rows; returns the market keys and assets whose charts changed. */
function addRows(tables) {
  const touched = new Set();
  const assets = new Set();
  for (const r of tables.candles ?? []) {
    byKey(state.candles, marketKey(r), r.interval).set(r.window_start, r);
    touched.add(marketKey(r));
    if (r.asset) assets.add(r.asset);
  }
  for (const r of tables.indicators ?? []) {
    byKey(state.indicators, marketKey(r), r.interval).set(r.window_start, r);
    touched.add(marketKey(r));
  }
  for (const r of tables.arbitrage ?? []) {
    state.arbitrage.push(r);
    assets.add(r.asset);
  }
  for (const r of tables.late ?? []) {
    state.late.push(r);
    touched.add(marketKey(r));
  }
  for (const r of tables.gaps ?? []) {
    state.gaps.push(r);
    touched.add(marketKey(r));
  }
  for (const r of tables.decode_errors ?? []) {
    state.decodeErrors.push(r);
    for (const key of state.candles.keys()) if (key.startsWith(`${r.exchange} `)) touched.add(key);
  }
  return { touched, assets };
}

function sortedRows(map, key) {
  const w = map.get(key)?.get(state.interval);
  return w ? [...w.values()].sort((a, b) => a.window_start - b.window_start) : [];
}

function chartOptions() {
  return {
    autoSize: true,
    layout: { background: { type: 'solid', color: '#161c23' }, textColor: '#d1d4dc', panes: { separatorColor: '#2a323c' } },
    grid: { vertLines: { color: '#1f262e' }, horzLines: { color: '#1f262e' } },
    timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#2a323c' },
    rightPriceScale: { borderColor: '#2a323c' },
    localization: { timeFormatter: utc },
  };
}

/** A titled card, kept in title order among its siblings whatever order rows arrive in. */
function card(parent, cls, title) {
  const el = document.createElement('div');
  el.className = `card ${cls}`;
  el.dataset.title = title;
  el.innerHTML = '<h3></h3><div class="legend"></div><div class="chart"></div><div class="windows"></div>';
  el.querySelector('h3').textContent = title;
  const after = [...parent.children].find((c) => c.dataset.title > title);
  parent.insertBefore(el, after ?? null);
  return el;
}

/**
 * A card with a chart, registered in `cards` under `key`. The chart fits itself to its data
 * (`userMoved` false) until the user scrolls or zooms it.
 */
function chartCard(cards, key, parent, cls) {
  const el = card(parent, cls, key);
  const chartEl = el.querySelector('.chart');
  const c = { el, chart: LWC.createChart(chartEl, chartOptions()), userMoved: false };
  for (const type of ['wheel', 'pointerdown', 'touchstart']) chartEl.addEventListener(type, () => (c.userMoved = true), { passive: true });
  cards.set(key, c);
  return c;
}

function marketCard(key) {
  if (marketCards.has(key)) return marketCards.get(key);
  const c = chartCard(marketCards, key, $('markets'), 'market');
  const chart = c.chart;
  c.el.dataset.market = key;
  const candle = chart.addSeries(LWC.CandlestickSeries, { upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false });
  const volume = chart.addSeries(LWC.HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const overlays = new Map();
  let rsi;
  for (const col of state.info.indicators) {
    const [kind, n] = col.split('_');
    if (kind === 'rsi') {
      rsi = { col, series: chart.addSeries(LWC.LineSeries, {
        color: '#c678dd', lineWidth: 1, title: col.toUpperCase().replace('_', ' '), priceLineVisible: false,
        autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
      }, 1) };
      for (const level of [30, 70]) rsi.series.createPriceLine({ price: level, color: '#6e7681', lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: '' });
    } else {
      const palette = OVERLAY_COLORS[kind] ?? ['#aaaaaa'];
      const i = [...overlays.keys()].filter((k) => k.startsWith(kind)).length;
      overlays.set(col, chart.addSeries(LWC.LineSeries, {
        color: palette[i % palette.length], lineWidth: 1, title: `${kind.toUpperCase()} ${n}`, priceLineVisible: false, lastValueVisible: false,
      }));
    }
  }
  const panes = chart.panes();
  if (panes[1]) {
    panes[0].setStretchFactor(3);
    panes[1].setStretchFactor(1);
  }
  return Object.assign(c, { candle, volume, overlays, rsi, markers: LWC.createSeriesMarkers(candle, []) });
}

/** The bar time at or after `seconds` (markers sit on a bar), or the last bar. */
function snap(times, seconds) {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0) return undefined;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < seconds) lo = mid + 1;
    else hi = mid;
  }
  return times[lo];
}

function markersFor(key, times) {
  const [exchange, symbol] = key.split(' ');
  const step = intervalMs(state.interval);
  const bar = (ms) => Math.floor(ms / step) * step / 1000;
  const out = [];
  for (const g of state.gaps) {
    if (g.exchange !== exchange || g.symbol !== symbol) continue;
    out.push({ at: bar(g.recv_ms), position: 'aboveBar', color: '#f0b429', shape: 'arrowDown', text: `G ${g.missing}` });
  }
  for (const l of state.late) {
    if (l.exchange !== exchange || l.symbol !== symbol || l.interval !== state.interval) continue;
    out.push({ at: l.window_start / 1000, position: 'belowBar', color: '#b07cff', shape: 'circle', text: 'L' });
  }
  for (const e of state.decodeErrors) {
    if (e.exchange !== exchange) continue;
    out.push({ at: bar(e.recv_ms), position: 'aboveBar', color: '#ef5350', shape: 'square', text: 'E' });
  }
  return out
    .map(({ at, ...m }) => ({ ...m, time: snap(times, at) }))
    .filter((m) => m.time !== undefined)
    .sort((a, b) => a.time - b.time);
}

function renderMarket(key) {
  const c = marketCard(key);
  const rows = sortedRows(state.candles, key);
  const time = (r) => r.window_start / 1000;
  c.candle.setData(rows.map((r) => ({ time: time(r), open: r.open, high: r.high, low: r.low, close: r.close })));
  c.volume.setData(rows.map((r) => ({ time: time(r), value: r.volume, color: r.close >= r.open ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)' })));
  const ind = sortedRows(state.indicators, key);
  for (const [col, series] of c.overlays) series.setData(ind.filter((r) => r.values[col] != null).map((r) => ({ time: time(r), value: r.values[col] })));
  if (c.rsi) c.rsi.series.setData(ind.filter((r) => r.values[c.rsi.col] != null).map((r) => ({ time: time(r), value: r.values[c.rsi.col] })));
  const times = rows.map(time);
  c.markers.setMarkers(markersFor(key, times));
  c.el.dataset.candles = String(rows.length);
  const last = rows.at(-1);
  const lastInd = ind.at(-1);
  c.el.querySelector('.legend').textContent = last
    ? `${state.interval} · ${rows.length} candles · last ${utc(time(last))} close ${last.close} vol ${last.volume.toFixed(4)}`
      + (c.rsi && lastInd?.values[c.rsi.col] != null ? ` · RSI ${lastInd.values[c.rsi.col].toFixed(1)}` : '')
    : `${state.interval} · no candles yet`;
  if (!c.userMoved && rows.length > 0) c.chart.timeScale().fitContent();
}

/** Arbitrage start/end rows paired into windows per (buy, sell) direction; an open one has end null. */
function arbitrageWindows(asset) {
  const open = new Map();
  const windows = [];
  for (const r of state.arbitrage) {
    if (r.asset !== asset) continue;
    const dir = `${r.buy_exchange}>${r.sell_exchange}`;
    if (r.event === 'start') {
      const w = { buy: r.buy_exchange, sell: r.sell_exchange, start_ms: r.recv_ms, end_ms: null, net_edge_bps: r.net_edge_bps, reason: '' };
      open.set(dir, w);
      windows.push(w);
    } else {
      const w = open.get(dir);
      if (!w) continue;
      w.end_ms = r.recv_ms;
      w.net_edge_bps = r.peak_net_edge_bps;
      w.reason = r.reason;
      open.delete(dir);
    }
  }
  return windows;
}

function spreadCard(asset) {
  if (spreadCards.has(asset)) return spreadCards.get(asset);
  const c = chartCard(spreadCards, asset, $('spreads'), 'spread');
  const chart = c.chart;
  c.el.dataset.asset = asset;
  const shade = chart.addSeries(LWC.HistogramSeries, { priceScaleId: 'arb', color: 'rgba(38,166,154,0.25)', lastValueVisible: false, priceLineVisible: false });
  shade.priceScale().applyOptions({ scaleMargins: { top: 0, bottom: 0 }, visible: false });
  const spread = chart.addSeries(LWC.LineSeries, { color: '#4f8ff7', lineWidth: 2, title: 'spread bps', priceLineVisible: false });
  const edge = chart.addSeries(LWC.LineSeries, { color: '#f0883e', lineWidth: 1, lineStyle: 0, title: 'net edge bps', priceLineVisible: false, pointMarkersVisible: true });
  return Object.assign(c, { shade, spread, edge, windows: [] });
}

function renderSpread(asset) {
  const markets = [...state.candles.keys()].filter((k) => sortedRows(state.candles, k).some((r) => r.asset === asset));
  const exchanges = new Set(markets.map((k) => k.split(' ')[0]));
  const windows = arbitrageWindows(asset);
  if (exchanges.size < 2 && windows.length === 0) return;
  const c = spreadCard(asset);
  const closes = new Map();
  for (const k of markets) {
    for (const r of sortedRows(state.candles, k)) {
      if (!closes.has(r.window_start)) closes.set(r.window_start, []);
      closes.get(r.window_start).push(r.close);
    }
  }
  const spread = [...closes].filter(([, cs]) => cs.length >= 2).sort((a, b) => a[0] - b[0])
    .map(([t, cs]) => ({ time: t / 1000, value: (Math.max(...cs) - Math.min(...cs)) / Math.min(...cs) * 1e4 }));
  c.spread.setData(spread);
  // Each window shades every bar it overlaps; the edge line is the best net edge among them.
  const step = intervalMs(state.interval);
  const lastMs = Math.max(0, ...[...closes.keys()]) + step;
  const best = new Map();
  for (const w of windows) {
    const end = w.end_ms ?? lastMs;
    for (let t = Math.floor(w.start_ms / step) * step; t <= end; t += step) best.set(t, Math.max(best.get(t) ?? -Infinity, w.net_edge_bps));
  }
  const bars = [...best].sort((a, b) => a[0] - b[0]);
  c.shade.setData(bars.map(([t]) => ({ time: t / 1000, value: 1 })));
  c.edge.setData(bars.map(([t, v]) => ({ time: t / 1000, value: v })));
  c.windows = windows;
  c.el.dataset.arbWindows = String(windows.length);
  c.el.dataset.shadedBars = String(bars.length);
  c.el.querySelector('.legend').textContent = `${state.interval} · spread across ${[...exchanges].join(', ')}`;
  const top = [...windows].sort((a, b) => b.net_edge_bps - a.net_edge_bps)[0];
  c.el.querySelector('.windows').textContent = windows.length === 0
    ? 'no arbitrage windows'
    : `${windows.length} arbitrage windows; best net edge ${top.net_edge_bps.toFixed(2)} bps buying on ${top.buy}, selling on ${top.sell} at ${utc(top.start_ms / 1000)}`
      + ` for ${top.end_ms === null ? 'still open' : `${((top.end_ms - top.start_ms) / 1000).toFixed(2)} s`}`;
  if (!c.userMoved && spread.length > 0) c.chart.timeScale().fitContent();
}

function renderAll() {
  for (const key of [...state.candles.keys()].sort()) renderMarket(key);
  for (const asset of allAssets()) renderSpread(asset);
}

function allAssets() {
  const assets = new Set(state.arbitrage.map((r) => r.asset));
  for (const m of state.candles.values()) for (const w of m.values()) for (const r of w.values()) if (r.asset) assets.add(r.asset);
  return [...assets].sort();
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function table(head, rows) {
  const t = document.createElement('table');
  const tr = document.createElement('tr');
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.append(th);
  }
  t.append(tr);
  for (const r of rows) {
    const row = document.createElement('tr');
    row.append(...r);
    t.append(row);
  }
  return t;
}

function renderHealth(h) {
  const el = $('health');
  el.replaceChildren();
  const n = (v) => (v === undefined || v === null ? '–' : String(v));
  if (h.connections.length === 0 && h.exchanges.length === 0) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = state.info?.mode === 'static'
      ? 'A finished run\'s outputs carry no connection log: open the archive itself (tapedeck ui --from <archive>) to see its connections.'
      : 'No connection has opened yet.';
    el.append(p);
    return;
  }
  el.append(table(['connection', 'state', 'frames/s', 'frames'], h.connections.map((c) => [
    cell(c.conn), cell(c.open ? 'open' : 'closed', c.open ? 'up' : 'down'), cell(String(c.frames_per_s)), cell(String(c.frames)),
  ])));
  const errors = (x) => state.decodeErrors.filter((e) => e.exchange === x).length;
  el.append(table(['exchange', 'frames', 'opens', 'closes', 'reconnects', 'gaps', 'REST responses', 'backfilled trades', 'backfill failures', 'late trades', 'decode errors'], h.exchanges.map((x) => [
    cell(x.exchange), cell(String(x.frames)), cell(String(x.opens)), cell(String(x.closes)), cell(n(x.reconnects)),
    cell(String(state.gaps.filter((g) => g.exchange === x.exchange).length)), cell(String(x.rest)), cell(n(x.backfilled_trades)), cell(n(x.backfill_failures)),
    cell(String(state.late.filter((l) => l.exchange === x.exchange && l.interval === state.interval).length)), cell(String(errors(x.exchange))),
  ])));
  if (h.recorder) {
    el.append(table(['spool lag', 'spool pending', 'Kafka pending (lag)'], [[
      cell(`${(h.recorder.spool_lag_s * 1000).toFixed(0)} ms`), cell(String(h.recorder.spool_pending)), cell(String(h.recorder.kafka_pending)),
    ]]));
  }
}

function renderProgress(p) {
  $('progress').textContent = p.total ? `${p.events.toLocaleString('en')} / ${p.total.toLocaleString('en')} events` : `${p.events.toLocaleString('en')} events`;
}

function setMode() {
  const m = $('mode');
  const live = state.info.mode !== 'static' && !state.done;
  m.textContent = state.done ? `${state.info.mode} · ended` : live ? `${state.info.mode} · live${state.info.speed ? ` · ${state.info.speed}` : ''}` : state.info.mode;
  m.className = `badge ${live ? 'live' : state.done ? 'ended' : ''}`;
}

function onSnapshot(s) {
  // A snapshot is everything so far: a second one (the run started over) replaces the first's rows.
  for (const m of [state.candles, state.indicators]) m.clear();
  for (const rows of [state.arbitrage, state.late, state.gaps, state.decodeErrors]) rows.length = 0;
  state.info = s.info;
  state.done = s.done;
  $('source').textContent = s.info.source;
  const select = $('interval');
  if (select.options.length === 0) {
    for (const i of s.info.intervals) select.append(new Option(i, i));
    state.interval = s.info.intervals[0];
    select.addEventListener('change', () => {
      state.interval = select.value;
      for (const c of [...marketCards.values(), ...spreadCards.values()]) c.userMoved = false;
      renderAll();
    });
  }
  state.received.snapshot = s.tables.candles.length;
  addRows(s.tables);
  renderAll();
  renderHealth(s.health);
  renderProgress(s.progress);
  setMode();
}

function onRows(tables) {
  state.received.messages++;
  state.received.candles += (tables.candles ?? []).length;
  const { touched, assets } = addRows(tables);
  for (const key of [...touched].sort()) if (state.candles.has(key)) renderMarket(key);
  for (const asset of assets) renderSpread(asset);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`);
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'snapshot') onSnapshot(m);
    else if (m.type === 'rows') onRows(m.tables);
    else if (m.type === 'health') renderHealth(m.health);
    else if (m.type === 'progress') renderProgress(m.progress);
    else if (m.type === 'done') {
      state.done = true;
      setMode();
    }
  };
  ws.onclose = () => {
    const m = $('mode');
    if (state.info && state.info.mode === 'static') return;
    m.textContent = state.done ? `${state.info?.mode ?? ''} · ended` : 'disconnected (the session ended)';
    m.className = 'badge ended';
  };
}

// For tests and the curious: what the charts hold, read back from the chart series themselves.
window.tapedeck = {
  get ready() {
    return state.info !== null;
  },
  get interval() {
    return state.interval;
  },
  selectInterval(name) {
    const select = $('interval');
    select.value = name;
    select.dispatchEvent(new Event('change'));
  },
  markets: () => [...marketCards.keys()].sort(),
  assets: () => [...spreadCards.keys()].sort(),
  candles: (key) => marketCards.get(key)?.candle.data().map((d) => ({ time: d.time, open: d.open, high: d.high, low: d.low, close: d.close })) ?? [],
  markers: (key) => marketCards.get(key)?.markers.markers() ?? [],
  arbitrage: (asset) => {
    const c = spreadCards.get(asset);
    return c ? { windows: c.windows, shaded: c.shade.data().filter((d) => d.value > 0).length } : { windows: [], shaded: 0 };
  },
  received: state.received,
};

connect();
