/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) on the
 * committed golden session: each market's chart holds exactly the candles of
 * candles.parquet (read back from the chart series through the page's `tapedeck` hook),
 * every arbitrage window of arbitrage.parquet is drawn, gaps and decode errors are marked,
 * and during `replay --speed 20x --ui` new candles arrive over the socket until the page
 * holds the replay's own candles.parquet. Screenshots go to test/ui/screenshots/ (ignored by git).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../../src/storage/parquet.ts';
import { readManifest } from '../../src/storage/run.ts';
import { GOLDEN_FILE, GOLDEN_SESSION } from '../golden/golden.ts';
import { ROOT, runCli, startCli, tmpDir, type RunningCli } from '../helpers.ts';

const SHOTS = path.join(ROOT, 'test/ui/screenshots');
const CHROMIUM = process.env.TAPEDECK_CHROMIUM ?? '/usr/bin/chromium';
/** The golden windows, with fees and a minimum edge at which the golden session has arbitrage windows. */
const ENGINE = ['--windows', '10s,1m', '--fees', 'binance=0,coinbase=0', '--min-edge', '5'];

type Row = Record<string, unknown>;
interface Bar { time: number; open: number; high: number; low: number; close: number }

const bars = (rows: Row[]): Bar[] => rows.map((r) => ({
  time: Number(r.window_start) / 1000, open: r.open as number, high: r.high as number, low: r.low as number, close: r.close as number,
}));

/** The candles of one market and window, as candles.parquet has them. */
function expected(candles: Row[], market: string, interval: string): Bar[] {
  return bars(candles.filter((c) => `${String(c.exchange)} ${String(c.symbol)}` === market && c.interval === interval));
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => (window as never as { tapedeck?: { ready: boolean } }).tapedeck?.ready === true, null, { timeout: 15_000 });
  expect(errors, 'the page runs without errors').toEqual([]);
  return page;
}

/** What the page's charts hold, read from the chart series. */
const charts = (page: Page, interval: string): Promise<Record<string, Bar[]>> => page.evaluate((i) => {
  const td = (window as never as { tapedeck: { selectInterval(i: string): void; markets(): string[]; candles(k: string): Bar[] } }).tapedeck;
  td.selectInterval(i);
  return Object.fromEntries(td.markets().map((k) => [k, td.candles(k)]));
}, interval);

describe('the dashboard in chromium', () => {
  let browser: Browser;
  const dir = tmpDir();
  const out = path.join(dir, 'golden');
  let ui: RunningCli | undefined;
  let live: RunningCli | undefined;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
    fs.mkdirSync(SHOTS, { recursive: true });
    const r = runCli(['replay', '--from', GOLDEN_SESSION, ...ENGINE, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const golden = JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')) as { tables: Record<string, { sha256: string }> };
    expect(readManifest(out).tables.candles!.sha256, 'the golden candles (fees only change arbitrage)').toBe(golden.tables.candles!.sha256);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const p of [ui, live]) {
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
  });

  it('shows exactly the candles of candles.parquet, the arbitrage windows, and the gap and decode-error markers', async () => {
    ui = startCli(['ui', '--from', out, '--ui-port', '0']);
    const url = (await ui.waitFor(/dashboard for .* at (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    const page = await openPage(browser, url);
    const candles = await readParquet(path.join(out, 'candles.parquet'));
    const markets = [...new Set(candles.map((c) => `${String(c.exchange)} ${String(c.symbol)}`))].sort();
    expect(markets.length, 'two exchanges × two assets').toBe(4);
    for (const interval of ['10s', '1m']) {
      const shown = await charts(page, interval);
      expect(Object.keys(shown).sort(), 'one chart per market').toEqual(markets);
      for (const m of markets) {
        const want = expected(candles, m, interval);
        expect(want.length, `${m} ${interval}: the session has candles`).toBeGreaterThan(0);
        expect(shown[m], `${m} ${interval}: the chart's candles are candles.parquet's`).toEqual(want);
      }
      const attrs = await page.$$eval('[data-market]', (els) => els.map((e) => [(e as HTMLElement).dataset.market, Number((e as HTMLElement).dataset.candles)]));
      for (const [m, n] of attrs) expect(n, `${String(m)} ${interval}: data-candles`).toBe(expected(candles, String(m), interval).length);
    }
    await page.evaluate(() => (window as never as { tapedeck: { selectInterval(i: string): void } }).tapedeck.selectInterval('10s'));

    const arbitrage = await readParquet(path.join(out, 'arbitrage.parquet'));
    const assets = [...new Set(arbitrage.map((a) => String(a.asset)))].sort();
    expect(assets, 'arbitrage windows on both assets at --min-edge 5 without fees').toEqual(['BTC/USD', 'ETH/USD']);
    for (const asset of assets) {
      const drawn = await page.evaluate((a) => (window as never as { tapedeck: { arbitrage(a: string): { windows: { start_ms: number; net_edge_bps: number }[]; shaded: number } } }).tapedeck.arbitrage(a), asset);
      const starts = arbitrage.filter((a) => a.asset === asset && a.event === 'start');
      expect(drawn.windows.map((w) => w.start_ms), `${asset}: every window of arbitrage.parquet`).toEqual(starts.map((s) => Number((s.recv_ns as bigint) / 1_000_000n)));
      expect(drawn.shaded, `${asset}: windows are shaded on the spread chart`).toBeGreaterThan(0);
      const attr = await page.$eval(`[data-asset="${asset}"]`, (e) => Number((e as HTMLElement).dataset.arbWindows));
      expect(attr).toBe(starts.length);
    }

    const gaps = await readParquet(path.join(out, 'gaps.parquet'));
    const errors = await readParquet(path.join(out, 'decode_errors.parquet'));
    expect(gaps.length + errors.length, 'the golden session has faults to mark').toBeGreaterThan(0);
    for (const m of markets) {
      const [exchange, symbol] = m.split(' ');
      const markers = await page.evaluate((k) => (window as never as { tapedeck: { markers(k: string): { text: string }[] } }).tapedeck.markers(k), m);
      const want = gaps.filter((g) => g.exchange === exchange && g.symbol === symbol).length + errors.filter((e) => e.exchange === exchange).length;
      expect(markers.length, `${m}: a marker per gap and per decode error`).toBe(want);
    }
    await page.screenshot({ path: path.join(SHOTS, 'golden-10s.png'), fullPage: true });
    await page.evaluate(() => (window as never as { tapedeck: { selectInterval(i: string): void } }).tapedeck.selectInterval('1m'));
    await page.screenshot({ path: path.join(SHOTS, 'golden-1m.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('during replay --speed 20x --ui, new candles arrive over the socket until the page holds the replay\'s candles', async () => {
    const liveOut = path.join(dir, 'live');
    live = startCli(['replay', '--from', GOLDEN_SESSION, ...ENGINE, '--speed', '20x', '--ui', '--ui-port', '0', '--out', liveOut]);
    const url = (await live.waitFor(/dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    const page = await openPage(browser, url);
    const count = (): Promise<{ shown: number; snapshot: number; received: number; messages: number }> => page.evaluate(() => {
      const td = (window as never as { tapedeck: { markets(): string[]; candles(k: string): unknown[]; received: { snapshot: number; candles: number; messages: number } } }).tapedeck;
      return { shown: td.markets().reduce((n, k) => n + td.candles(k).length, 0), ...td.received, received: td.received.candles };
    });
    const first = await count();
    await page.waitForFunction((n) => {
      const td = (window as never as { tapedeck: { received: { candles: number } } }).tapedeck;
      return td.received.candles > n;
    }, first.received, { timeout: 20_000 });
    const mid = await count();
    expect(mid.shown, 'more candles on the charts than at first sight').toBeGreaterThan(first.shown);
    await page.screenshot({ path: path.join(SHOTS, 'replay-20x-mid.png'), fullPage: true });
    expect(live.child.exitCode, 'still replaying: the candles came while it ran').toBeNull();

    await live.waitFor(/replay done; dashboard still at/, 30_000);
    await page.waitForFunction(() => document.getElementById('mode')!.textContent!.includes('ended'), null, { timeout: 5_000 });
    const end = await count();
    expect(end.messages, 'rows came in several batches, as they were made').toBeGreaterThan(3);
    const candles = await readParquet(path.join(liveOut, 'candles.parquet'));
    const shown = await charts(page, '10s');
    for (const [m, got] of Object.entries(shown)) expect(got, `${m}: the live page ends with the replay's candles`).toEqual(expected(candles, m, '10s'));
    expect(end.snapshot + end.received, 'every candle came once: in the snapshot or over the socket').toBe(candles.length);
    await page.screenshot({ path: path.join(SHOTS, 'replay-20x-end.png'), fullPage: true });
    await page.close();
    live.child.kill('SIGTERM');
    expect(await live.exited, live.stderr).toBe(0);
  }, 90_000);
});
