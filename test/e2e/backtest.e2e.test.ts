/**
 * Backtesting through the CLI: the three example strategies on the real BTCUSDT recording
 * and on a simulator session; the same backtest twice and over a differently chunked
 * archive gives identical fills and report; paper trading live on the simulator gives
 * exactly the fills a backtest of that recording gives; a sweep writes one summary table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { readManifest } from '../../src/storage/run.ts';
import { REAL, ROOT, real, runCli, startCli, tmpDir } from '../helpers.ts';

const dir = tmpDir();
const digests = (d: string) => Object.fromEntries(Object.entries(readManifest(d).tables).map(([t, r]) => [t, r.sha256]));
const LOW_FEES = ['--fees', 'binance=1,coinbase=1'];

describe('backtest', () => {
  beforeAll(() => {
    expect(runCli(['demo', '--minutes', '10', '--out', path.join(dir, 'sim')]).code).toBe(0);
  });

  it.each(['ma-cross', 'rsi-reversion', 'arb-taker'])('runs %s on a simulator session and writes its report', (name) => {
    const out = path.join(dir, `sim-${name}`);
    // The simulated walk is calm: RSI on 10s candles stays within about 40–66.
    const extra = name === 'rsi-reversion' ? ['--param', 'low=45', '--param', 'high=55'] : [];
    const r = runCli(['backtest', '--strategy', name, '--from', path.join(dir, 'sim', 'raw'), '--out', out, ...LOW_FEES, ...extra]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/total return/);
    for (const f of ['orders.parquet', 'fills.parquet', 'equity.parquet', 'report.json', 'equity.svg', 'manifest.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { trades: number; strategy: string };
    expect(report.strategy).toBe(name);
    expect(report.trades, `${name} traded on 10 simulated minutes`).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(out, 'equity.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline/);
  });

  it.skipIf(!REAL).each(['ma-cross', 'rsi-reversion', 'arb-taker'])('runs %s on the real BTCUSDT recording', (name) => {
    const raw = path.join(dir, 'btc');
    if (!fs.existsSync(raw)) {
      expect(runCli(['import', real('binance/hftbacktest/btcusdt_20240808.gz'), real('binance/hftbacktest/btcusdt_20240809.gz'), '--format', 'hftbacktest', '--out', raw]).code).toBe(0);
    }
    const r = runCli(['backtest', '--strategy', name, '--from', raw, '--out', path.join(dir, `btc-${name}`)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backtested 99574 events/);
  });

  it('is deterministic: twice, and over an archive cut into other files, the same fills and report', async () => {
    const args = ['--strategy', 'arb-taker', ...LOW_FEES];
    const chunked = path.join(dir, 'sim-chunked');
    // Re-cut the archive: import is for foreign formats, so rewrite it through replay's reader.
    const { planArchive, readArchive } = await import('../../replayer/read.ts');
    const { ArchiveWriter } = await import('../../src/storage/archive.ts');
    const w = new ArchiveWriter(chunked, (await readManifest(path.join(dir, 'sim', 'out'))).sessions[0]!, { maxRows: 999 });
    for await (const ev of readArchive(await planArchive(path.join(dir, 'sim', 'raw')))) w.write(ev);
    expect(w.close().length).toBeGreaterThan(10);
    for (const [name, from] of [['a', path.join(dir, 'sim', 'raw')], ['b', path.join(dir, 'sim', 'raw')], ['c', chunked]] as const) {
      expect(runCli(['backtest', ...args, '--from', from, '--out', path.join(dir, `det-${name}`)]).code).toBe(0);
    }
    const a = path.join(dir, 'det-a');
    for (const other of ['det-b', 'det-c']) {
      expect(digests(path.join(dir, other)), other).toEqual(digests(a));
      expect(fs.readFileSync(path.join(dir, other, 'report.json'), 'utf8'), `${other} report`).toBe(fs.readFileSync(path.join(a, 'report.json'), 'utf8'));
      expect(fs.readFileSync(path.join(dir, other, 'fills.parquet')).equals(fs.readFileSync(path.join(a, 'fills.parquet'))), `${other} fills bytes`).toBe(true);
    }
  });

  it('sweeps a parameter grid (a list and a range) into one summary table, one run folder per row', async () => {
    const out = path.join(dir, 'sweep');
    const r = runCli(['backtest', '--strategy', 'ma-cross', '--from', path.join(dir, 'sim', 'raw'), '--out', out, '--sweep', 'fast=3,5', '--sweep', 'slow=10..20:10']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/swept 4 runs on \d worker thread/);
    const rows = await readParquet(path.join(out, 'sweep.parquet'));
    expect(rows.map((x) => `${x.param_fast}/${x.param_slow}`)).toEqual(['3/10', '3/20', '5/10', '5/20']);
    for (const row of rows) {
      const single = JSON.parse(fs.readFileSync(path.join(out, String(row.run), 'report.json'), 'utf8')) as { total_return_pct: number };
      expect(row.total_return_pct).toBe(single.total_return_pct);
    }
  });

  it('says in one line what is wrong with a strategy or its parameters', () => {
    const raw = path.join(dir, 'sim', 'raw');
    for (const [args, msg] of [
      [['--strategy', 'nope'], /unknown strategy "nope"/],
      [['--strategy', 'ma-cross', '--param', 'fast=quick'], /^tapedeck: bad ma-cross parameter fast=quick \(a whole number of candles, 1 or more\)$/],
      [['--strategy', 'ma-cross', '--param', 'speed=3'], /has no parameter "speed"/],
      [['--strategy', './no/such/file.ts'], /cannot load strategy module/],
    ] as const) {
      const r = runCli(['backtest', ...args, '--from', raw, '--out', path.join(dir, 'bad')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(msg);
    }
  });
});

describe('paper trading', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 99, meanGapMs: 80 });
  });
  afterAll(async () => sim.close());

  it('gives live fills equal to a backtest of the same recording, and verify agrees', async () => {
    const d = path.join(dir, 'paper');
    const rec = startCli(['record', '--out', d, '--duration', '20s', '--metrics-port', '0', '--strategy', 'arb-taker', ...LOW_FEES,
      '--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`]);
    expect(await rec.exited, rec.stderr).toBe(0);
    const live = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
    const liveFills = await readParquet(path.join(live, 'fills.parquet'));
    expect(liveFills.length, 'the strategy traded live').toBeGreaterThan(0);
    const bt = runCli(['backtest', '--strategy', 'arb-taker', ...LOW_FEES, '--from', path.join(d, 'raw'), '--out', path.join(d, 'backtest')]);
    expect(bt.code, bt.stderr).toBe(0);
    expect(readManifest(path.join(d, 'backtest')).tables.fills!.sha256, 'backtest fills = paper fills').toBe(readManifest(live).tables.fills!.sha256);
    expect(readManifest(path.join(d, 'backtest')).tables.orders!.sha256, 'and the orders').toBe(readManifest(live).tables.orders!.sha256);
    const v = runCli(['verify', '--recording', path.join(d, 'raw'), '--live', live]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/same\s+fills/);
  }, 90_000);
});

describe('a strategy of your own', () => {
  const recording = path.join(ROOT, 'data/sessions/sim-7-3m');
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const run = (file: string, out: string, ...extra: string[]) => runCli(['backtest', '--strategy', file, '--from', recording, '--out', path.join(dir, out), ...extra]);
  const oneLine = (r: { code: number; stderr: string }, code: number, message: RegExp): void => {
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  };

  // Node takes a .ts file for CommonJS, not strict: writes to a frozen event are ignored, so the outputs are the test.
  it('cannot change the engine\'s tables through the events it is handed, nor reach execution through its account', () => {
    const file = write('meddler.ts', `export default { name: 'meddler', describe: 'm', params: { meddle: { default: false, describe: 'm' } },
  init: () => ({ n: 0 }),
  decide: (e: any, s: any, p: any, account: any) => {
    if (p.meddle) {
      if (e.type === 'candle') e.candle.close = -1;
      if (e.type === 'indicators') { e.indicators.close = -1; for (const k in e.indicators.values) e.indicators.values[k] = -1; }
      if (e.type === 'quote') { e.quote.bid = 1; e.quote.ask = 2; e.quote.at.ingestSeq = -5; }
      if (e.type === 'arbitrage') e.arbitrage.net_edge_bps = -1;
      if (e.type === 'fill') { e.fill.price = 1; if (e.fill.at) e.fill.at.session = 'x'; }
      account.cashBy?.set('binance', 1e9);
      account.place?.({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'market' }, { session: 'x', ingestSeq: 0 }, 0n);
    }
    const c = e.candle;
    const orders = e.type === 'candle' && s.n++ % 5 === 0 && account.openOrders(c.exchange, c.symbol) === 0
      ? [{ exchange: c.exchange, symbol: c.symbol, side: account.position(c.exchange, c.symbol) > 0 ? 'sell' : 'buy', size: 0.01, type: 'market' }] : [];
    return { state: s, orders };
  } };
`);
    const zeroFees = ['--fees', 'binance=0,coinbase=0'];
    for (const meddle of ['false', 'true']) expect(run(file, `meddle-${meddle}`, '--param', `meddle=${meddle}`, ...zeroFees).code).toBe(0);
    const [calm, meddled] = [digests(path.join(dir, 'meddle-false')), digests(path.join(dir, 'meddle-true'))];
    for (const t of ['candles', 'indicators', 'arbitrage', 'fills']) expect(readManifest(path.join(dir, 'meddle-false')).tables[t]!.rows, `${t} rows to meddle with`).toBeGreaterThan(0);
    expect(meddled).toEqual(calm);
  });

  it('that changes a candle in an ES module stops in one line, naming itself and the event', () => {
    const file = write('strict.mts', 'export default { name: \'mine\', describe: \'m\', params: {}, init: () => ({}),\n'
      + '  decide: (e: any, s: any) => { if (e.type === \'candle\') e.candle.close = 1; return { state: s, orders: [] }; } };\n');
    oneLine(run(file, 'strict'), 1, /^tapedeck: strategy mine failed at \S+:\d+: its decide\(\) threw on a candle event: Cannot assign to read only property 'close' of object/);
  });

  it('whose answer throws when read stops in one line naming it (it was "tapedeck: failed: state getter")', () => {
    const file = write('getter.ts', 'export default { name: \'mine\', describe: \'m\', params: {}, init: () => ({}),\n'
      + '  decide: () => ({ get state() { throw new Error(\'state getter\'); }, orders: [] }) };\n');
    oneLine(run(file, 'getter'), 1, /^tapedeck: strategy mine failed at \S+:\d+: reading what its decide\(\) returned on a \w+ event threw: state getter$/);
  });

  it('that calls itself by a built-in\'s name is refused: the manifest records the name, and verify would run the built-in', () => {
    const file = write('impostor.ts', 'export default { name: \'ma-cross\', describe: \'m\', params: {}, init: () => ({}), decide: (e: any, s: any) => ({ state: s, orders: [] }) };\n');
    oneLine(run(file, 'impostor'), 2, /^tapedeck: strategy file \S+impostor\.ts calls itself ma-cross, the name of a built-in strategy: give it a name of its own$/);
    expect(fs.existsSync(path.join(dir, 'impostor')), 'nothing ran').toBe(false);
  });

  it('whose report cannot be written leaves no manifest beside an earlier run\'s report and equity.svg', () => {
    const out = path.join(dir, 'report-fails');
    expect(runCli(['backtest', '--strategy', 'ma-cross', '--from', recording, '--out', out]).code).toBe(0);
    // equity.svg as a folder: the second run's report fails after its manifest is written.
    fs.rmSync(path.join(out, 'equity.svg'));
    fs.mkdirSync(path.join(out, 'equity.svg', 'x'), { recursive: true });
    const r = runCli(['backtest', '--strategy', 'ma-cross', '--param', 'fast=3', '--from', recording, '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(fs.existsSync(path.join(out, 'manifest.json')), 'no manifest').toBe(false);
    expect(fs.existsSync(path.join(out, 'report.json')), 'nor the first run\'s report').toBe(false);
  });
});
