/**
 * What a demanding user does to tapedeck's inputs and outputs (session 10's fault hunt): each
 * case failed before its fix. Nothing recorded is overwritten or left half-written looking
 * whole, and every refusal is one line on stderr with a non-zero exit.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetMetadata } from 'hyparquet';
import { isoToNs, nsToIsoExact } from '../../src/log/time.ts';
import { filesUnder, real, runCli, sleep, startCli, tmpDir } from '../helpers.ts';

const dir = tmpDir('tapedeck-inputs-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const COINBASE = real('coinbase/cryptofeed/COINBASE.ws.28.0');
const KRAKEN = real('kraken/cryptofeed/KRAKEN.ws.48.0');
const BTC = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`));

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const parquetUnder = (root: string): string[] => filesUnder(root).filter((f) => f.endsWith('.parquet')).sort();

/** Exit code `code`, and stderr one line, no stack trace, matching `message`. */
function oneLine(r: { code: number; stderr: string }, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('import', () => {
  it('refuses to import a session again into an archive that holds it, leaving its files as they were', () => {
    const out = path.join(dir, 'again');
    expect(runCli(['import', COINBASE, '--format', 'cryptofeed', '--out', out]).code).toBe(0);
    const [file] = parquetUnder(out);
    const before = sha(path.join(out, file!));
    // The same recording's first 100 lines, under the same name: the same session id.
    const short = path.join(dir, 'short', path.basename(COINBASE));
    fs.mkdirSync(path.dirname(short));
    fs.writeFileSync(short, `${fs.readFileSync(COINBASE, 'utf8').split('\n').slice(0, 100).join('\n')}\n`);
    const r = runCli(['import', short, '--format', 'cryptofeed', '--out', out]);
    oneLine(r, 2, /already holds session cryptofeed-coinbase-20210417T164336Z .*import into another --out, or remove them first/);
    expect(parquetUnder(out)).toEqual([file]);
    expect(sha(path.join(out, file!)), 'the archived session is untouched').toBe(before);
  });

  it('refuses an --out that is a file, or under one, in one line, exit 2, in the words replay and record use', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a folder');
    oneLine(runCli(['import', KRAKEN, '--format', 'cryptofeed', '--out', file]), 2, /^tapedeck: the output folder \S+a-file is a file$/);
    // It made the archive's first folder under the file: ENOTDIR, exit 1.
    oneLine(runCli(['import', KRAKEN, '--format', 'cryptofeed', '--out', path.join(file, 'raw')]), 2, /^tapedeck: the output folder \S+a-file\/raw is under a file, \S+a-file$/);
  });

  it('imports into the raw/ folder of a record --out folder, where a replay of it reads', () => {
    const out = path.join(dir, 'recorded');
    fs.mkdirSync(path.join(out, 'raw'), { recursive: true });
    const r = runCli(['import', KRAKEN, '--format', 'cryptofeed', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`1 file(s) in ${path.join(out, 'raw')}`);
    expect(parquetUnder(out).every((f) => f.startsWith(`raw${path.sep}`))).toBe(true);
    const replayed = runCli(['replay', '--from', out, '--out', path.join(dir, 'recorded-out')]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/^replayed 51 events/);
  });

  it.each([['SIGINT', 130, '0'], ['SIGTERM', 143, '1']] as const)('on %s removes the session it was writing: no rotated file is left looking whole', async (signal, code, thread) => {
    const out = path.join(dir, `cut-${signal}`);
    const run = startCli(['import', ...BTC, '--format', 'hftbacktest', '--out', out, '--rows-per-file', '2000'], { TAPEDECK_IMPORT_THREAD: thread });
    // Wait until a rotated file is in place (the import then has ~95k events to go).
    while (parquetUnder(out).length === 0 && run.child.exitCode === null) await sleep(10);
    run.child.kill(signal);
    expect(await run.exited, run.stderr).toBe(code);
    expect(run.stderr).toBe(`tapedeck: interrupted by ${signal}: the partial session hftbacktest-btcusdt-20240808T235413Z was removed\n`);
    expect(filesUnder(out).filter((f) => /\.(parquet|tmp)$/.test(f))).toEqual([]);
  });

  it('hears Ctrl-C while it passes over a line that never ends (/dev/zero ran on at 99 % CPU until killed)', async () => {
    const run = startCli(['import', '/dev/zero', '--format', 'hftbacktest', '--out', path.join(dir, 'zero')]);
    try {
      await sleep(1_500);
      expect(run.child.exitCode, run.stderr).toBe(null);
      run.child.kill('SIGINT');
      expect(await Promise.race([run.exited, sleep(15_000).then(() => 'still running 15 s after Ctrl-C')]), run.stderr).toBe(130);
      expect(run.stderr).toBe('tapedeck: interrupted by SIGINT: nothing of it was written\n');
    } finally {
      // Never left reading /dev/zero behind the suite.
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('replay outputs', () => {
  it.each([
    ['the archive itself', ''],
    ['a partition of it', path.join('venue=kraken', 'date=2021-04-17')],
  ])('refuses an --out inside the archive (%s): its tables would be read as archive files', (_what, sub) => {
    const archive = krakenArchive();
    oneLine(runCli(['replay', '--from', archive, '--out', path.join(archive, sub)]), 2, /is inside the archive .*kraken-archive: its tables would be read as archive files/);
    expect(parquetUnder(archive)).toHaveLength(1);
    const again = runCli(['replay', '--from', archive, '--out', path.join(dir, 'arch-out')]);
    expect(again.code, `the archive still replays: ${again.stderr}`).toBe(0);
  });

  it('leaves no manifest beside tables a failed run half rewrote', () => {
    const out = path.join(dir, 'half');
    expect(runCli(['replay', '--from', krakenArchive(), '--out', out, '--windows', '1m']).code).toBe(0);
    // A folder where indicators.parquet goes: the next run writes candles, then fails.
    fs.rmSync(path.join(out, 'indicators.parquet'));
    fs.mkdirSync(path.join(out, 'indicators.parquet', 'x'), { recursive: true });
    const r = runCli(['replay', '--from', krakenArchive(), '--out', out, '--windows', '5m']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(out, 'manifest.json')), 'the 1m run\'s manifest no longer describes the folder').toBe(false);
  });
});

/** An archive of the small Kraken recording (made once). */
function krakenArchive(): string {
  const root = path.join(dir, 'kraken-archive');
  if (!fs.existsSync(root)) expect(runCli(['import', KRAKEN, '--format', 'cryptofeed', '--out', root]).code).toBe(0);
  return root;
}

describe('replay of a time range', () => {
  it('that holds no event of the archive says so (a year typed wrong), and still writes its empty outputs', () => {
    const archive = krakenArchive();
    const r = runCli(['replay', '--from', archive, '--start', '2100-01-01', '--out', path.join(dir, 'range-empty')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`tapedeck: warning: no event of ${archive} was received from --start 2100-01-01: the outputs are empty`);
    expect(r.stdout).toMatch(/^replayed 0 events/);
    const some = runCli(['replay', '--from', archive, '--end', '2100-01-01', '--out', path.join(dir, 'range-all')]);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stderr).not.toContain('the outputs are empty');
    // A backtest too ("backtested 0 events", not a word, before).
    const bt = runCli(['backtest', '--strategy', 'ma-cross', '--from', archive, '--start', '2100-01-01', '--out', path.join(dir, 'range-bt')]);
    expect(bt.code, bt.stderr).toBe(0);
    expect(bt.stderr).toContain(`tapedeck: warning: no event of ${archive} was received from --start 2100-01-01: the outputs are empty`);
  });
});

describe('a file whose footer statistics are damaged', () => {
  it('gives a replay of a time range every row it holds in that range (one wrong recv_ns maximum dropped the whole file without a word)', () => {
    const root = path.join(dir, 'footer-stats');
    fs.cpSync(krakenArchive(), root, { recursive: true });
    const [name] = parquetUnder(root);
    const file = path.join(root, name!);
    const bytes = fs.readFileSync(file);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const st = meta.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === 'recv_ns')!.meta_data!.statistics!;
    const [min, max] = [st.min_value as bigint, st.max_value as bigint];
    const start = nsToIsoExact((min + max) / 2n);
    const good = runCli(['replay', '--from', root, '--start', start, '--out', path.join(dir, 'footer-good')]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).not.toMatch(/^replayed 0 events/);
    // The maximum made the minimum: the file says it ends before the range starts.
    const le = (v: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v);
      return b;
    };
    const at = bytes.lastIndexOf(le(max));
    expect(at, 'the maximum in the footer').toBeGreaterThan(bytes.length - 4096);
    le(min).copy(bytes, at);
    fs.writeFileSync(file, bytes);
    // Decoding (a decoded-event cache the run above wrote would be found by the pages' digest, which the footer is not in).
    const damaged = runCli(['replay', '--from', root, '--start', start, '--out', path.join(dir, 'footer-damaged')], { TAPEDECK_DECODE_CACHE: 'off' });
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout.split(' in ')[0]).toBe(good.stdout.split(' in ')[0]);
  });
});

describe('verify', () => {
  it('replays the range a run was given (--start, --end to the nanosecond), not the whole recording (every table differed)', () => {
    const archive = krakenArchive();
    const whole = JSON.parse(fs.readFileSync(path.join(ranUnder(archive, 'verify-whole'), 'manifest.json'), 'utf8')) as { first_recv: string; last_recv: string };
    const [a, b] = [isoToNs(whole.first_recv), isoToNs(whole.last_recv)];
    const [start, end] = [nsToIsoExact(a + (b - a) / 3n + 123_456n), nsToIsoExact(a + (2n * (b - a)) / 3n + 7n)];
    for (const command of [['replay'], ['backtest', '--strategy', 'ma-cross']]) {
      const live = path.join(dir, `verify-range-${command[0]}`);
      const run = runCli([...command, '--from', archive, '--start', start, '--end', end, '--out', live]);
      expect(run.code, run.stderr).toBe(0);
      const m = JSON.parse(fs.readFileSync(path.join(live, 'manifest.json'), 'utf8')) as { events: number; options: { start: string; end: string } };
      expect([m.options.start, m.options.end], 'the range as given, to the nanosecond').toEqual([start, end]);
      const r = runCli(['verify', '--recording', archive, '--live', live]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('identical');
    }
  });

  it('takes a manifest without options (edited by hand) as a run of the whole recording (it crashed reading \'start\')', () => {
    const live = ranUnder(krakenArchive(), 'verify-no-options');
    const file = path.join(live, 'manifest.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), options: null }));
    const r = runCli(['verify', '--recording', krakenArchive(), '--live', live]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('identical');
  });

  it('says so in one line when a live table does not match its manifest (it crashed on "reading \'session\'") or cannot be read', () => {
    const live = ranUnder(krakenArchive(), 'verify-edited');
    const file = path.join(live, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { tables: Record<string, { sha256: string }> };
    m.tables.candles!.sha256 = 'f'.repeat(64);
    fs.writeFileSync(file, JSON.stringify(m));
    const r = runCli(['verify', '--recording', krakenArchive(), '--live', live]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^tapedeck: verification failed: candles differs: the live run's \S+candles\.parquet holds the very rows the replay made, but its manifest\.json gives another digest for candles: the manifest or the table was changed after the run\n$/);
    fs.rmSync(path.join(live, 'candles.parquet'));
    const gone = runCli(['verify', '--recording', krakenArchive(), '--live', live]);
    expect(gone.code, gone.stderr).toBe(1);
    expect(gone.stderr).toMatch(/^tapedeck: verification failed: candles differs: the live run's \S+candles\.parquet cannot be read \(ENOENT\), so its first differing row cannot be shown\n$/);
  });
});

/** A replay of `archive` into a new folder `name` under the test's folder; the folder. */
function ranUnder(archive: string, name: string): string {
  const out = path.join(dir, name);
  const r = runCli(['replay', '--from', archive, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

describe('a --strategy module', () => {
  // A folder with no package.json: Node takes a .ts file there for CommonJS.
  const mods = path.join(dir, 'strategies');
  const write = (name: string, text: string): string => {
    fs.mkdirSync(mods, { recursive: true });
    fs.writeFileSync(path.join(mods, name), text);
    return path.join(mods, name);
  };
  const strategy = (decide: string): string => `export default { name: 'mine', describe: 'm', params: {}, init: () => ({}), decide: ${decide} };\n`;
  /** What a case does, its file's name and text, and the exit code and line it stops with. */
  type Case = [what: string, name: string, text: string, code: number, message: RegExp];
  const backtest = (file: string): ReturnType<typeof runCli> => runCli(['backtest', '--strategy', file, '--from', krakenArchive(), '--out', path.join(dir, `bt-${path.basename(file)}`)]);

  it('written in TypeScript in a folder without "type": "module" runs', () => {
    const r = backtest(write('plain.ts', strategy('() => ({ state: {}, orders: [] })')));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/strategy +mine/);
  });

  it.each<Case>([
    ['exports an object without params', 'noparams.ts', 'export default { name: \'x\', describe: \'x\', init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n', 2,
      /noparams\.ts exports no strategy \(an object with name, params, init and decide\)$/],
    ['has a syntax error: its line and column, not "Transform failed"', 'syntax.ts', 'export default { name:\n', 2, /cannot load strategy module .*syntax\.ts: .*syntax\.ts:2:0: ERROR: Unexpected end of file$/],
    ['is an ES module with a syntax error: its line and column (Node names none)', 'syntax.mjs', 'export default {\n  name: \'x\',,\n};\n', 2,
      /cannot load strategy module .*syntax\.mjs: .*syntax\.mjs:2:12: ERROR: Expected identifier but found ","$/],
    ['is a CommonJS module with a syntax error: its line and column', 'syntax.cjs', 'module.exports = {\n  name: \'x\',,\n};\n', 2,
      /cannot load strategy module .*syntax\.cjs: .*syntax\.cjs:2:12: ERROR: Expected identifier but found ","$/],
    ['awaits forever at its top level (Node exited 13 without a word)', 'hang.mts', 'await new Promise(() => {});\nexport default {};\n', 1, /failed: stopped with nothing left to run while still waiting/],
    ['answers decide() with something that is not { state, orders }', 'garbage.ts', strategy('() => 42'), 1,
      /^tapedeck: strategy mine failed at cryptofeed-kraken-\S+:\d+: its decide\(\) returned 42 on a \w+ event, not \{ state, orders: \[\.\.\.\] \}$/],
    ['throws in decide()', 'throws.ts', strategy('() => { throw new Error(\'oops\'); }'), 1, /^tapedeck: strategy mine failed at \S+: its decide\(\) threw on a \w+ event: oops$/],
    ['places an order whose side is neither buy nor sell', 'badorder.ts',
      strategy('(e: any) => ({ state: {}, orders: e.type === \'candle\' ? [{ exchange: e.candle.exchange, symbol: e.candle.symbol, side: \'up\', size: 1, type: \'market\' }] : [] })'), 1,
      /^tapedeck: strategy mine failed at \S+: bad order \{.*"side":"up".*\}: order side must be buy or sell: "up"$/],
    ['places a limit order at an infinite price (the equity came out NaN, exit 0)', 'inf.ts',
      strategy('(e: any) => ({ state: {}, orders: e.type === \'candle\' ? [{ exchange: e.candle.exchange, symbol: e.candle.symbol, side: \'buy\', size: 1, type: \'limit\', price: Infinity }] : [] })'), 1,
      /bad order .*: a limit order needs a positive, finite price$/],
    // Wrong-typed fields passed execution and failed at the end, after writing the engine's tables ("parquet expected number value, got 5").
    ...([
      ['size as text', 'size: \'5\'', /\{.*"size":"5".*\}: order size must be a positive, finite number: "5"$/],
      ['size as a BigInt', 'size: 10n', /\{.*"size":"10n".*\}: order size must be a positive, finite number: 10n$/],
      ['exchange as a number', 'exchange: 42', /.*: order exchange must be a name: 42$/],
      ['symbol null', 'symbol: null', /.*: order symbol must be a name: null$/],
      ['tag as an object', 'tag: { a: 1 }', /.*: order tag must be text: \{"a":1\}$/],
      ['price as text', 'price: \'1\'', /.*: order price must be a positive, finite number: "1"$/],
    ] as const).map(([what, field, message]) => [`places an order with ${what}`, `field-${what.replace(/\W+/g, '-')}.ts`,
      strategy(`(e: any) => ({ state: {}, orders: e.type === 'candle' ? [{ exchange: e.candle.exchange, symbol: e.candle.symbol, side: 'buy', size: 1, type: 'market', ${field} }] : [] })`), 1,
      new RegExp(`^tapedeck: strategy mine failed at \\S+: bad order ${message.source}`)] as Case),
    ['places a circular order (describing it threw "Converting circular structure to JSON", in 3 lines)', 'circular.ts',
      strategy('(e: any) => { const o: any = { exchange: e.type, symbol: \'x\', side: \'buy\', size: -1, type: \'market\' }; o.self = o; return { state: {}, orders: [o] }; }'), 1,
      /^tapedeck: strategy mine failed at \S+: bad order \{.*"self":"\[circular\]"\}: order size must be a positive, finite number: -1$/],
    ['has an async decide()', 'async.ts', strategy('async () => ({ state: {}, orders: [] })'), 1,
      /^tapedeck: strategy mine failed at \S+: its decide\(\) returned a Promise: decide must be synchronous \(not async\)$/],
    ['changes its params in decide(), in an ES module (the run recorded size 7 for orders of 0.5)', 'mutates.mts',
      'export default { name: \'mine\', describe: \'m\', params: { size: { default: 0.5, describe: \'s\' } }, init: () => ({}),\n'
      + '  decide: (e: any, s: any, p: any) => { const orders = e.type === \'candle\' ? [{ exchange: e.candle.exchange, symbol: e.candle.symbol, side: \'buy\', size: p.size, type: \'market\' }] : []; p.size = 7; return { state: s, orders }; } };\n', 1,
      /^tapedeck: strategy mine failed at \S+: its decide\(\) threw on a \w+ event: Cannot assign to read only property 'size' of object/],
    ['declares a parameter as null (it read "Cannot read properties of null", exit 1)', 'nullparam.ts',
      'export default { name: \'mine\', describe: \'m\', params: { a: null }, init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n', 2,
      /^tapedeck: \S+nullparam\.ts: strategy mine declares parameter a as null, not \{ default, describe, range\? \}$/],
    ...([
      ['a window of NaN ms (it ran, recording "NaNms")', 'windowsMs: [NaN]', /returned windowsMs \[NaN\]: NaN is not a window the engine makes/],
      ['a window of 0 ms ("Division by zero")', 'windowsMs: [0]', /returned windowsMs \[0\]: 0 is not a window the engine makes/],
      ['an SMA period of 0 (it ran)', 'sma: [0]', /returned sma \[0\]: 0 is not an SMA period/],
      ['an RSI period of -1 (it ran)', 'rsi: -1', /returned rsi -1, not an RSI period/],
    ] as const).map(([what, needs, message]) => [`needs ${what}`, `needs-${needs.replace(/\W+/g, '')}.ts`,
      `export default { name: 'mine', describe: 'm', params: {}, needs: () => ({ ${needs} }), init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n`, 2,
      new RegExp(`^tapedeck: strategy mine's needs\\(\\) ${message.source}`)] as Case),
    ['has a needs() that throws', 'needs-throws.ts',
      'export default { name: \'mine\', describe: \'m\', params: {}, needs: () => { throw new Error(\'no\'); }, init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n', 2,
      /^tapedeck: strategy mine's needs\(\) threw: no$/],
  ])('that %s stops the run in one line', (_what, name, text, code, message) => {
    const r = backtest(write(name, text));
    oneLine(r, code, message);
    expect(fs.existsSync(path.join(dir, `bt-${name}`, 'manifest.json')), 'no outputs').toBe(false);
    expect(fs.existsSync(path.join(dir, `bt-${name}`, 'orders.parquet')), 'no tables either').toBe(false);
  });

  // Node takes a .ts file here for CommonJS, not strict: the assignment to a frozen param is ignored, and the run goes on with the values asked for.
  it('that changes the objects of its state runs; one that changes its params in a CommonJS module records the params it was asked for (it recorded size 7)', () => {
    const file = write('stateful.ts', 'export default { name: \'mine\', describe: \'m\', params: { size: { default: 0.5, describe: \'s\' } },\n'
      + '  init: (p: any) => ({ seen: 0, size: p.size, log: [] as string[] }),\n'
      + '  decide: (e: any, s: any, p: any) => { s.seen++; s.size = 7; s.log.push(e.type); p.size = 7; return { state: s, orders: [] }; } };\n');
    const out = path.join(dir, 'bt-stateful');
    const r = runCli(['backtest', '--strategy', file, '--param', 'size=0.25', '--from', krakenArchive(), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).params).toEqual({ size: 0.25 });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).strategy.params).toEqual({ size: 0.25 });
  });

  it('swept into an --out inside the archive is refused before any run, as without --sweep (exit 1 from each worker before)', () => {
    const archive = krakenArchive();
    const file = write('sweep.ts', 'export default { name: \'mine\', describe: \'m\', params: { n: { default: 1, describe: \'n\' } }, init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n');
    for (const out of [path.join(archive, 'sweep'), archive]) {
      const r = runCli(['backtest', '--strategy', file, '--from', archive, '--out', out, '--sweep', 'n=1,2']);
      oneLine(r, 2, /^tapedeck: the output folder \S+ is inside the archive \S+: its tables would be read as archive files by the next replay; write them outside it$/);
    }
    expect(filesUnder(archive).filter((f) => /run-\d+|sweep\.(json|parquet)$/.test(f))).toEqual([]);
  });

  it('swept over values whose needs() the engine cannot make is refused before any run', () => {
    const file = write('sweep-needs.ts', 'export default { name: \'mine\', describe: \'m\', params: { w: { default: 60000, describe: \'w\' } }, needs: (p: any) => ({ windowsMs: [p.w] }), init: () => ({}), decide: () => ({ state: {}, orders: [] }) };\n');
    const out = path.join(dir, 'bt-sweep-needs');
    const r = runCli(['backtest', '--strategy', file, '--from', krakenArchive(), '--out', out, '--sweep', 'w=60000,-5']);
    oneLine(r, 2, /^tapedeck: strategy mine's needs\(\) returned windowsMs \[-5\]: -5 is not a window the engine makes/);
    expect(fs.existsSync(out), 'no run started').toBe(false);
  });
});

describe('a run\'s manifest.json that is not one', () => {
  it.each([
    ['not JSON', '{"tapedeck": "0.1", ', /\(.*JSON.*\)$/],
    ['JSON of another shape (a TypeError before)', '{}', /\(no engine configuration\)$/],
    ['null', 'null', /\(not an object\)$/],
  ])('%s: verify and ui name the file in one line, exit 2', (_what, text, why) => {
    const live = path.join(dir, `manifest-${text.length}`);
    fs.mkdirSync(live, { recursive: true });
    fs.writeFileSync(path.join(live, 'manifest.json'), text);
    for (const args of [['verify', '--recording', krakenArchive(), '--live', live], ['ui', '--from', live, '--ui-port', '0']]) {
      const r = runCli(args);
      oneLine(r, 2, new RegExp(`^tapedeck: \\S+manifest-${text.length}/manifest\\.json is not a tapedeck manifest ${why.source}`));
    }
  });
});

describe('an archive put together from symbolic links', () => {
  it('replays the files and folders they link to (skipped silently before), a link back up once, and names a link to nothing', () => {
    const coinbase = path.join(dir, 'linked-coinbase');
    expect(runCli(['import', COINBASE, '--format', 'cryptofeed', '--out', coinbase]).code).toBe(0);
    const root = path.join(dir, 'linked');
    fs.mkdirSync(path.join(root, 'venue=kraken'), { recursive: true });
    fs.symlinkSync(path.join(coinbase, 'venue=coinbase'), path.join(root, 'venue=coinbase'));
    const [kraken] = parquetUnder(krakenArchive()).filter((f) => f.startsWith('venue=kraken'));
    fs.mkdirSync(path.join(root, path.dirname(kraken!)), { recursive: true });
    fs.symlinkSync(path.join(krakenArchive(), kraken!), path.join(root, kraken!));
    fs.symlinkSync(root, path.join(root, 'venue=kraken', 'loop'));
    const r = runCli(['replay', '--from', root, '--out', path.join(dir, 'linked-out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^replayed 10001 events/);
    fs.symlinkSync(path.join(dir, 'nothing-here.parquet'), path.join(root, 'venue=kraken', 'gone.parquet'));
    oneLine(runCli(['replay', '--from', root, '--out', path.join(dir, 'linked-out')]), 2, /gone\.parquet links to \S+nothing-here\.parquet, which does not exist: a part of the archive is missing$/);
    fs.rmSync(path.join(root, 'venue=kraken', 'gone.parquet'));
    // A date folder linked to a disk that is not mounted: its events were dropped without a word.
    const date = path.join(root, 'venue=coinbase-2');
    fs.symlinkSync(path.join(dir, 'unmounted', 'date=2024-08-09'), date);
    oneLine(runCli(['replay', '--from', root, '--out', path.join(dir, 'linked-out')]), 2, /venue=coinbase-2 links to \S+unmounted\/date=2024-08-09, which does not exist: a part of the archive is missing$/);
    fs.rmSync(date);
    // A link to itself: the raw ELOOP text before.
    const loop = path.join(root, 'venue=kraken', 'self.parquet');
    fs.symlinkSync(loop, loop);
    oneLine(runCli(['replay', '--from', root, '--out', path.join(dir, 'linked-out')]), 2, /self\.parquet is a link that cannot be followed \(ELOOP\): a part of the archive cannot be read$/);
    fs.rmSync(loop);
    // A link of another name (a convenience `latest` whose folder retention removed) is not a part of the archive.
    fs.symlinkSync(path.join(dir, 'removed-by-retention'), path.join(root, 'latest'));
    const other = runCli(['replay', '--from', root, '--out', path.join(dir, 'linked-out')]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/^replayed 10001 events/);
  });

  it('replays a file named .PARQUET (another tool\'s), skipped silently before', () => {
    const root = path.join(dir, 'upper');
    fs.cpSync(krakenArchive(), root, { recursive: true });
    const [file] = parquetUnder(root).filter((f) => f.startsWith('venue=kraken'));
    const before = runCli(['replay', '--from', root, '--out', path.join(dir, 'upper-a')]);
    fs.renameSync(path.join(root, file!), path.join(root, file!.replace(/\.parquet$/, '.PARQUET')));
    const after = runCli(['replay', '--from', root, '--out', path.join(dir, 'upper-b')]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.split(' in ')[0]).toBe(before.stdout.split(' in ')[0]);
  });

  it('refuses an --out reached through a link into the archive, and a verify --out through a link to the live folder (they were written there)', () => {
    const root = path.join(dir, 'linked-out-archive');
    fs.cpSync(krakenArchive(), root, { recursive: true });
    fs.symlinkSync(root, path.join(dir, 'to-archive'));
    oneLine(runCli(['replay', '--from', root, '--out', path.join(dir, 'to-archive', 'out')]), 2, /inside/);
    oneLine(runCli(['replay', '--from', path.join(dir, 'to-archive'), '--out', path.join(root, 'out')]), 2, /inside/);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
    const live = path.join(dir, 'linked-live');
    expect(runCli(['replay', '--from', root, '--out', live]).code).toBe(0);
    const manifest = fs.readFileSync(path.join(live, 'manifest.json'));
    fs.symlinkSync(live, path.join(dir, 'to-live'));
    const r = runCli(['verify', '--recording', root, '--live', live, '--out', path.join(dir, 'to-live')]);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(path.join(live, 'manifest.json')).equals(manifest), 'the live manifest as it was').toBe(true);
  });
});
