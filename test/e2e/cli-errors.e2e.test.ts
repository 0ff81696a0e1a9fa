/** Bad input gets one clear line on stderr and exit code 2, never a stack trace. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { lockSession } from '../../src/storage/session-lock.ts';
import { REAL, runCli, sleep, startCli, tmpDir } from '../helpers.ts';

const dir = tmpDir();
const junkArchive = path.join(dir, 'junk');
fs.mkdirSync(junkArchive);
fs.writeFileSync(path.join(junkArchive, 'x.parquet'), 'this is not parquet');
const emptyFileArchive = path.join(dir, 'empty-file', 'venue=binance', 'date=2024-08-09');
fs.mkdirSync(emptyFileArchive, { recursive: true });
fs.writeFileSync(path.join(emptyFileArchive, 's-000000000000.parquet'), '');
const emptyDir = path.join(dir, 'empty');
fs.mkdirSync(emptyDir);
const junkLines = path.join(dir, 'COINBASE.ws.1.0');
fs.writeFileSync(junkLines, '1618677817.061845: {"type":"match"}\nthis line is garbage\n');

// A port some other program holds, for the "port in use" rows.
const squatter = net.createServer();
await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
const busyPort = String((squatter.address() as net.AddressInfo).port);
afterAll(() => squatter.close());

const cases: [string, string[], RegExp][] = [
  ['a missing archive', ['replay', '--from', path.join(dir, 'nope')], /archive not found/],
  ['an archive with no Parquet files', ['replay', '--from', emptyDir], /no \.parquet files/],
  ['an unreadable Parquet file', ['replay', '--from', junkArchive, '--out', path.join(dir, 'o1')], /cannot read .*x\.parquet/],
  ['a bad --speed', ['replay', '--from', junkArchive, '--speed', 'fast'], /bad --speed "fast"/],
  ['a bad window spec', ['replay', '--from', junkArchive, '--windows', '7s'], /bad window 7s/],
  ['a zero window, echoed as typed', ['replay', '--from', junkArchive, '--windows', '1m,0s'], /bad window 0s in "1m,0s"/],
  ['a negative --speed (yargs would read -5x as the flags -5 -x)', ['replay', '--from', junkArchive, '--speed', '-5x'], /bad --speed "-5x" \(use 1x, 50x, 0\.5x or max\)/],
  ['a --speed too slow to ever end (0.0000001x made a minute of recording last 19 years)', ['replay', '--from', junkArchive, '--speed', '0.0000001x'],
    /^tapedeck: bad --speed "0\.0000001x" \(a factor from 0\.01x to 10000x, or max\)$/],
  ['a --speed past any pacing (a recorded ms in under 0.1 µs: max says so)', ['replay', '--from', junkArchive, '--speed', '20000x'], /^tapedeck: bad --speed "20000x" \(a factor from 0\.01x to 10000x, or max\)$/],
  ['a simulate --speed too slow to ever end', ['simulate', '--from', junkArchive, '--speed', '0.001x'], /^tapedeck: bad --speed "0\.001x" \(a factor from 0\.01x to 10000x\)$/],
  ['a simulate --speed of max (a live server paces what it serves)', ['simulate', '--from', junkArchive, '--speed', 'max'], /^tapedeck: --speed max makes no sense for a live server: give a factor, e\.g\. 50x$/],
  ['a --sweep without "="', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast'], /bad --sweep "fast" \(use name=a,b,c or name=a\.\.b:step\)/],
  ['a --sweep with no values', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast='], /bad --sweep "fast=" \(use name=a,b,c or name=a\.\.b:step\)/],
  ['a --sweep range with a step of 0 (it would never reach b)', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast=5..20:0'],
    /^tapedeck: bad --sweep "fast=5\.\.20:0" \(the step of a range must be above 0\)$/],
  ['a --sweep range that runs downwards', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast=20..5:5'],
    /^tapedeck: bad --sweep "fast=20\.\.5:5" \(a range runs upwards: 20 is above 5\)$/],
  ['a --sweep range of words', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast=a..b:1'],
    /^tapedeck: bad --sweep "fast=a\.\.b:1" \(a range is a\.\.b:step in decimal numbers, e\.g\. fast=5\.\.20:5\)$/],
  ['a --sweep range past --max-runs, refused before its values are made', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast=1..1000000000000:1'],
    /^tapedeck: --sweep makes 1,000,000,000,000 runs \(fast 1000000000000\), more than 1,000: sweep fewer values, or allow them with --max-runs 1000000000000$/],
  ['a --sweep grid of 90,000 runs (it started them all, each a whole backtest with its own output folder)',
    ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', `fast=${Array.from({ length: 300 }, (_, i) => i + 1).join(',')}`, '--sweep', `slow=${Array.from({ length: 300 }, (_, i) => i + 1).join(',')}`],
    /^tapedeck: --sweep makes 90,000 runs \(fast 300 × slow 300\), more than 1,000: sweep fewer values, or allow them with --max-runs 90000$/],
  ['a --sweep naming a parameter twice (the second list replaced the first)', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--sweep', 'fast=3,5', '--sweep', 'fast=8'],
    /^tapedeck: --sweep fast is given twice \(fast=3,5 and fast=8\): give its values once, e\.g\. fast=3,5,8$/],
  ['a negative demo --minutes', ['demo', '--minutes', '-1'], /bad --minutes -1 \(/],
  ['a demo --minutes that is not a number', ['demo', '--minutes', 'abc'], /bad --minutes "abc": not a number/],
  ['a demo --seed that is not a number', ['demo', '--seed', 'abc'], /bad --seed "abc": not a number/],
  ['a simulate --port that is not a number', ['simulate', '--port', 'abc'], /bad --port "abc": not a number/],
  ['a simulate --port out of range', ['simulate', '--port', '70000'], /bad --port 70000 \(0 to 65535/],
  ['a simulate --port in use', ['simulate', '--port', busyPort], new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use`)],
  ['a bad simulate --rate', ['simulate', '--rate', 'fast'], /bad --rate "fast" \(frames per second, e\.g\. 150k\)/],
  ['a simulate --rate with --from', ['simulate', '--rate', '150k', '--from', junkArchive], /--rate floods the synthetic market: it does not go with --from/],
  ['a simulate --start without --from', ['simulate', '--start', '30s'], /--start and --end choose a slice of a recording: give --from/],
  ['a bad simulate --start', ['simulate', '--from', junkArchive, '--start', 'yesterday'], /bad --start: not a time: "yesterday"/],
  ['a simulate --start not before its --end', ['simulate', '--from', junkArchive, '--start', '2m', '--end', '30s'], /--start 2m is not before --end 30s: nothing to serve/],
  ['a record --metrics-port that is not a number', ['record', '--metrics-port', 'abc'], /bad --metrics-port "abc": not a number/],
  ['a record --metrics-port in use', ['record', '--metrics-port', busyPort, '--out', path.join(dir, 'busy'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use \\(choose another with --metrics-port`)],
  ['a record --out that is a file', ['record', '--exchanges', 'binance', '--out', junkLines, '--duration', '1s', '--metrics-port', '0', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: the output folder \S+COINBASE\.ws\.1\.0 is a file$/],
  ['a record --out under a file', ['record', '--exchanges', 'binance', '--out', path.join(junkLines, 'data'), '--duration', '1s', '--metrics-port', '0', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: the output folder \S+COINBASE\.ws\.1\.0\/data is under a file, \S+COINBASE\.ws\.1\.0$/],
  ['a record --metrics-port out of range', ['record', '--metrics-port', '-3'], /bad --metrics-port -3 \(0 to 65535/],
  ['a record of cryptocompare without an API key', ['record', '--exchanges', 'cryptocompare', '--out', path.join(dir, 'cc'), '--duration', '1s'], /^tapedeck: cryptocompare needs an API key: --api-key or \$CRYPTOCOMPARE_API_KEY$/],
  ['a record symbol neither BASE-QUOTE nor a market', ['record', '--exchanges', 'cryptocompare', '--api-key', 'k', '--symbols', 'Kraken~BTC~USD,BTC_USD', '--out', path.join(dir, 'cc'), '--duration', '1s'],
    /bad symbol "BTC_USD" \(use BASE-QUOTE, e\.g\. BTC-USD, or Market~BASE~QUOTE for cryptocompare/],
  ['a CryptoCompare market for an exchange that has none', ['record', '--exchanges', 'binance', '--symbols', 'Kraken~BTC~USD', '--out', path.join(dir, 'cc'), '--duration', '1s'], /bad symbol "Kraken~BTC~USD" \(use BASE-QUOTE, e\.g\. BTC-USD\)$/],
  ['a bad --start', ['replay', '--from', junkArchive, '--start', 'yesterday'], /not a time/],
  ['--start later than --end', ['replay', '--from', junkArchive, '--start', '2024-08-09T01:00:00Z', '--end', '2024-08-09T00:00:00Z'], /--start 2024-08-09T01:00:00Z is not before --end 2024-08-09T00:00:00Z/],
  ['an empty archive file, said to be one (not "Offset is outside the bounds of the DataView")', ['replay', '--from', path.join(dir, 'empty-file'), '--out', path.join(dir, 'o2')],
    /cannot read .*s-000000000000\.parquet: 0 bytes, too short to be a Parquet file/],
  ['a --start Date.parse would read as 2001-01-01', ['replay', '--from', junkArchive, '--start', '-1'], /not a time: "-1" \(use ISO-8601/],
  ['a --start on February 30 (Date.parse rolled it to March 2)', ['replay', '--from', junkArchive, '--start', '2021-02-30T00:00:00Z'], /not a time: "2021-02-30T00:00:00Z" \(no such date or time of day\)/],
  ['a Kafka source whose port is not one', ['replay', '--from', 'kafka://127.0.0.1:99999/t'], /bad Kafka broker "127\.0\.0\.1:99999" \(use host:port/],
  ['a record --kafka whose port is not one (it recorded, then warned)', ['record', '--kafka', '127.0.0.1:99999', '--no-metrics', '--out', path.join(dir, 'kport'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /bad Kafka broker "127\.0\.0\.1:99999"/],
  ['a demo --out that is a file (ENOTDIR, exit 1, before)', ['demo', '--minutes', '1', '--out', junkLines], /^tapedeck: the output folder \S+COINBASE\.ws\.1\.0 is a file$/],
  ['a demo --seed too large to be a session id (exit 1 before)', ['demo', '--seed', '1e30', '--out', path.join(dir, 'demo-seed')], /bad --seed 1e\+30 \(a whole number\)/],
  ['a demo --start whose exchange times the engine refuses (all decode errors before)', ['demo', '--start', '2200-01-01T00:00:00Z', '--out', path.join(dir, 'demo-start')],
    /bad --start 2200-01-01T00:00:00Z \(the simulated session must lie within 2010-01-01 and 2100-01-01 UTC/],
  ['a --fees for an exchange that is none (a typo left the fee at its default)', ['replay', '--from', junkArchive, '--fees', 'binanse=5'],
    /bad --fees "binanse=5": no exchange "binanse" \(exchanges: binance, binanceus, bitstamp, coinbase, cryptocompare, kraken, or cryptocompare:<Market>\)/],
  ['a --maker-fees for an exchange that is none', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--maker-fees', 'krakn=1'], /bad --maker-fees "krakn=1": no exchange "krakn"/],
  ['an output folder that is a file, before the run (exit 1 after it before)', ['replay', '--from', path.join(dir, 'empty-file'), '--out', junkLines], /^tapedeck: the output folder \S+COINBASE\.ws\.1\.0 is a file$/],
  ['an output folder under a file, before the run (ENOTDIR after the whole replay, exit 1, before)', ['replay', '--from', path.join(dir, 'empty-file'), '--out', path.join(junkLines, 'out')],
    /^tapedeck: the output folder \S+COINBASE\.ws\.1\.0\/out is under a file, \S+COINBASE\.ws\.1\.0$/],
  ['a record --tick of 0 (it ticked ~900 times a second into the archive)', ['record', '--tick', '0s', '--no-metrics', '--out', path.join(dir, 'tick0'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad --tick 0s \(a duration above 0, e\.g\. 1s\)$/],
  ['a record --silence of 0', ['record', '--silence', '0ms', '--no-metrics', '--out', path.join(dir, 'silence0'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad --silence 0ms \(a duration above 0, e\.g\. 1s\)$/],
  ['a record --duration of so many digits it reads as Infinity (it would record forever)', ['record', '--duration', `${'9'.repeat(400)}d`, '--no-metrics', '--out', path.join(dir, 'dur-inf'), '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad --duration 9+d \(a duration, e\.g\. 10m or 30d; leave it out to record until Ctrl-C\)$/],
  ['a record --tick longer than a timer waits (25d ticked every millisecond)', ['record', '--tick', '25d', '--no-metrics', '--out', path.join(dir, 'tick25d'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad --tick 25d \(at most 24 days\)$/],
  ['a record --silence longer than a timer waits', ['record', '--silence', '30d', '--no-metrics', '--out', path.join(dir, 'silence30d'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad --silence 30d \(at most 24 days\)$/],
  ['a record --endpoint URL cannot read (it failed after making a spool: "failed: Invalid URL")', ['record', '--no-metrics', '--out', path.join(dir, 'badurl'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:99999/binance'],
    /^tapedeck: bad --endpoint "binance=ws:\/\/127\.0\.0\.1:99999\/binance": ws:\/\/127\.0\.0\.1:99999\/binance is not a URL \(a port above 65535, a bracket left open\?\)$/],
  ['a record --endpoint for an exchange not recorded', ['record', '--no-metrics', '--out', path.join(dir, 'otherx'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'bitstamp=ws://127.0.0.1:1/x'],
    /^tapedeck: bad --endpoint "bitstamp=ws:\/\/127\.0\.0\.1:1\/x": bitstamp is not recorded \(--exchanges binance\)$/],
  ['a simulate --ping-interval of 0', ['simulate', '--ping-interval', '0s'], /^tapedeck: bad --ping-interval 0s \(a duration above 0, e\.g\. 1s\)$/],
  ['a simulate --disconnect-every of 0', ['simulate', '--disconnect-every', '0s'], /^tapedeck: bad --disconnect-every 0s \(a duration above 0, e\.g\. 1s\)$/],
  ['a simulate --host that resolves to nothing (getaddrinfo ENOTFOUND, exit 1, before)', ['simulate', '--port', '0', '--host', 'no-such-host.invalid'],
    /^tapedeck: host no-such-host\.invalid is not a name or address this machine can resolve \(choose another with --port\/--host\)$/],
  ['an import naming one file twice (its events were imported twice)', ['import', junkLines, path.join(path.dirname(junkLines), '.', path.basename(junkLines)), '--format', 'cryptofeed', '--out', path.join(dir, 'twice')],
    /COINBASE\.ws\.1\.0 is named twice \(as \S+COINBASE\.ws\.1\.0 too\): its events would be imported twice$/],
  ['an unknown import format', ['import', junkLines, '--format', 'tardis'], /unknown --format "tardis"/],
  ['a missing import file', ['import', path.join(dir, 'missing.gz'), '--format', 'hftbacktest'], /no such file/],
  ['an import --exchange for cryptofeed files, which name theirs (it was passed over)', ['import', junkLines, '--format', 'cryptofeed', '--exchange', 'kraken', '--out', path.join(dir, 'cfx')],
    /^tapedeck: --exchange is for hftbacktest files, which do not name their exchange; cryptofeed files name theirs \(kraken was given\)$/],
  // yargs made an option given twice an array that later checks took for one value (the dashboard listened on every interface).
  ['an option given twice', ['replay', '--from', path.join(dir, 'nowhere'), '--out', 'a', '--out', 'b'], /^tapedeck: --out is given 2 times \("a", "b"\): give it once$/],
  ['a --ui-host given twice (it listened on every interface)', ['replay', '--ui', '--ui-host', '127.0.0.1', '--ui-host', '::1', '--from', path.join(dir, 'nowhere'), '--out', path.join(dir, 'ui2')],
    /^tapedeck: --ui-host is given 2 times \("127\.0\.0\.1", "::1"\): give it once$/],
  ['a simulate --host given twice', ['simulate', '--port', '0', '--host', '127.0.0.1', '--host', '127.0.0.1'], /^tapedeck: --host is given 2 times \("127\.0\.0\.1", "127\.0\.0\.1"\): give it once$/],
  ['a --param named twice', ['backtest', '--strategy', 'ma-cross', '--param', 'fast=3', '--param', 'fast=50', '--from', path.join(dir, 'nowhere'), '--out', path.join(dir, 'bt2')],
    /^tapedeck: --param fast is given twice \(3 and 50\): give it once$/],
  ['a backtest --equity-interval of 0 (a division by zero, exit 1)', ['backtest', '--strategy', 'ma-cross', '--equity-interval', '0s', '--from', path.join(dir, 'nowhere'), '--out', path.join(dir, 'bt0')],
    /^tapedeck: bad --equity-interval 0s \(a duration above 0, e\.g\. 1s\)$/],
  // Strategy parameters out of range, refused before the (junk) archive is read: a replay would fail on x.parquet instead.
  ...([
    ['ma-cross', 'fast=0', /^tapedeck: bad ma-cross parameter fast=0 \(a whole number of candles, 1 or more\)$/],
    ['ma-cross', 'fast=2.5', /^tapedeck: bad ma-cross parameter fast=2\.5 \(a whole number of candles, 1 or more\)$/],
    ['ma-cross', 'kind=wma', /^tapedeck: bad ma-cross parameter kind=wma \(one of sma, ema\)$/],
    ['ma-cross', 'size=-1', /^tapedeck: bad ma-cross parameter size=-1 \(a base quantity above 0\)$/],
    ['ma-cross', 'interval=banana', /^tapedeck: bad ma-cross parameter interval=banana \(a candle interval: a duration of at least 1s that divides a day, e\.g\. 10s, 1m, 5m\)$/],
    ['ma-cross', 'market=BTCUSDT', /^tapedeck: bad ma-cross parameter market=BTCUSDT \(exchange:SYMBOL, the exchange one of binance, .* or cryptocompare:<Market> with a symbol <Market>~<FSYM>~<TSYM>\)$/],
    ['ma-cross', 'fast=30', /^tapedeck: bad ma-cross parameters fast=30 slow=20 \(fast must be below slow: /],
    ['rsi-reversion', 'high=150', /^tapedeck: bad rsi-reversion parameter high=150 \(a number from 0 to 100\)$/],
    ['arb-taker', 'size=0', /^tapedeck: bad arb-taker parameter size=0 \(a base quantity above 0\)$/],
  ] as const).map(([strategy, param, message]): [string, string[], RegExp] => [
    `a backtest --strategy ${strategy} --param ${param}`, ['backtest', '--strategy', strategy, '--param', param, '--from', junkArchive, '--out', path.join(dir, 'bt-param')], message,
  ]),
  ['a --sweep value out of range (it ran, or failed mid-sweep)', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--out', path.join(dir, 'bt-sweep'), '--sweep', 'size=0.05,0'],
    /^tapedeck: bad ma-cross parameter size=0 \(a base quantity above 0\)$/],
  ['a --sweep range reaching out of range', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--out', path.join(dir, 'bt-sweep'), '--sweep', 'fast=0..10:5'],
    /^tapedeck: bad ma-cross parameter fast=0 \(a whole number of candles, 1 or more\)$/],
  ['a --sweep every run of which breaks a rule', ['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--out', path.join(dir, 'bt-sweep'), '--sweep', 'fast=20,30', '--sweep', 'slow=10,20'],
    /^tapedeck: every run of this --sweep breaks a ma-cross rule, e\.g\. fast=20 slow=10 \(fast must be below slow: /],
  ['a record --strategy parameter out of range', ['record', '--strategy', 'ma-cross', '--param', 'slow=0', '--out', path.join(dir, 'rec-param'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'],
    /^tapedeck: bad ma-cross parameter slow=0 \(a whole number of candles, 1 or more\)$/],
  ['an unknown command', ['frobnicate'], /Unknown argument|Unknown command/i],
];

describe('CLI errors', () => {
  it.each(cases)('%s', (_what, args, message) => {
    // No API key from the environment either (a developer may have one set).
    const r = runCli(args, { CRYPTOCOMPARE_API_KEY: '' });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(message);
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
  });

  it('refuses a strategy parameter before any replay starts: no output folder, no run folders', () => {
    for (const extra of [['--param', 'kind=wma'], ['--sweep', 'fast=3,5', '--sweep', 'kind=ema,wma']]) {
      const out = path.join(dir, `bt-nothing-${extra[0]}`);
      const r = runCli(['backtest', '--strategy', 'ma-cross', '--from', junkArchive, '--out', out, ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe('tapedeck: bad ma-cross parameter kind=wma (one of sma, ema)');
      expect(fs.existsSync(out), `${extra.join(' ')}: refused before ${out} was made`).toBe(false);
    }
  });

  it('refuses a TAPEDECK_READ_THREAD that is not 0 or 1 in one line', () => {
    const r = runCli(['replay', '--from', junkArchive, '--out', path.join(dir, 'rt')], { TAPEDECK_READ_THREAD: 'yes' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('tapedeck: bad TAPEDECK_READ_THREAD "yes" (0: read in line, 1: on its own thread)\n');
  });

  // Before reaching Kafka (nothing listens on port 1), before serving (the simulator would run until stopped).
  it.each([
    ['TAPEDECK_KAFKA_HEAP_GROWTH', '1.5', ['replay', '--from', 'kafka://127.0.0.1:1/none', '--out', path.join(dir, 'hg')]],
    ['TAPEDECK_SIMULATE_HEAP_GROWTH', 'lots', ['simulate', '--port', '0']],
  ])('refuses a %s that is not a whole percent in one line, before it starts', (variable, value, args) => {
    const r = runCli(args, { [variable]: value });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`tapedeck: bad ${variable} "${value}" (a whole percent, 0 for V8's own heap growth)\n`);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['TAPEDECK_RECORD_HEAP_GROWTH', '-5', '(a whole percent, 0 for V8\'s own heap growth)'],
    ['TAPEDECK_ROLL_THREAD', '2', '(0: archive on the ingest thread, 1: on a thread of its own)'],
  ])('refuses a %s that it cannot read in one line, writing nothing', (variable, value, why) => {
    const out = path.join(dir, `bad-${variable}`);
    const r = runCli(['record', '--no-metrics', '--out', out, '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance'], { [variable]: value });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`tapedeck: bad ${variable} "${value}" ${why}\n`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('records with --no-metrics (listed in --help) and serves no /metrics', () => {
    const r = runCli(['record', '--no-metrics', '--out', path.join(dir, 'nometrics'), '--duration', '1s', '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, 'the recording line names no metrics address').toMatch(/recording binance .* as session \S+$/m);
    expect(r.stderr).not.toMatch(/metrics at/);
  });

  it('replays a record/import --out folder (it holds raw/) as its archive', () => {
    const out = path.join(dir, 'imported');
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', path.join(out, 'raw')]).code).toBe(0);
    expect(runCli(['replay', '--from', out, '--out', path.join(out, 'out')]).code, 'first replay').toBe(0);
    const again = runCli(['replay', '--from', out, '--out', path.join(out, 'out2')]);
    expect(again.code, `outputs beside raw/ are not read as archive files: ${again.stderr}`).toBe(0);
    // A run's output folder given for an archive ("row 0 is not a tapedeck LogEvent" before), whole or without its manifest.
    const r = runCli(['replay', '--from', path.join(out, 'out'), '--out', path.join(out, 'out3')]);
    expect([r.code, r.stderr]).toEqual([2, `tapedeck: ${path.join(out, 'out')} is a run's output folder (it holds candles.parquet, indicators.parquet, arbitrage.parquet, …), not an archive: give the archive the run read\n`]);
    fs.rmSync(path.join(out, 'out', 'manifest.json'));
    const ui = runCli(['ui', '--from', path.join(out, 'out'), '--ui-port', '0']);
    expect([ui.code, ui.stderr]).toEqual([2, expect.stringMatching(/is a run's output folder \(.*\), not an archive; it has no manifest\.json: that run failed or was cut short: give the archive the run read\n$/)]);
  });

  it('refuses to re-serve a recording with nothing in it to serve (it listened, silent, for ever)', () => {
    const demo = path.join(dir, 'sim-nothing');
    expect(runCli(['demo', '--minutes', '1', '--exchanges', 'binance', '--no-replay', '--out', demo]).code).toBe(0);
    const late = runCli(['simulate', '--from', demo, '--exchanges', 'binance', '--start', '2030-01-01T00:00:00Z', '--port', '0']);
    expect([late.code, late.stderr]).toEqual([2, expect.stringMatching(/^tapedeck: \S+sim-nothing holds no frame of binance in the part --start\/--end choose \(it holds \d+ in all\): nothing to serve\n$/)]);
    const other = runCli(['simulate', '--from', demo, '--exchanges', 'kraken', '--port', '0']);
    expect([other.code, other.stderr]).toEqual([2, expect.stringMatching(/^tapedeck: \S+sim-nothing holds no frame of kraken: nothing to serve\n$/)]);
  });

  it.runIf(REAL !== undefined)('warns of an exchange whose recording ends before --start, though its books are carried into the part served', async () => {
    // The real Coinbase recording (30 s of 2021-04-17, level2 books) beside 2 minutes of simulated Binance; served from a time after Coinbase's last frame.
    const both = path.join(dir, 'sim-carried');
    expect(runCli(['import', path.join(REAL!, 'coinbase/cryptofeed/COINBASE.ws.28.0'), '--format', 'cryptofeed', '--out', both]).code).toBe(0);
    const bn = path.join(dir, 'sim-carried-binance');
    expect(runCli(['demo', '--minutes', '2', '--exchanges', 'binance', '--start', '2021-04-17T16:43:30Z', '--no-replay', '--out', bn]).code).toBe(0);
    fs.cpSync(path.join(bn, 'raw'), both, { recursive: true });
    const sim = startCli(['simulate', '--from', both, '--exchanges', 'binance,coinbase', '--start', '2021-04-17T16:44:30Z', '--port', '0']);
    try {
      await sim.waitFor(/^record from it: /m);
      // A subscriber would get the books as they stood (carried snapshots), then nothing: that is no feed.
      expect(sim.stderr.split('\n').filter((l) => l !== '')).toEqual([expect.stringMatching(/^tapedeck: warning: \S+sim-carried holds no frame of coinbase in the part --start\/--end choose: ws:\/\/127\.0\.0\.1:\d+\/coinbase will send nothing$/)]);
    } finally {
      sim.child.kill('SIGTERM');
      await sim.exited;
    }
  });

  it('says how far a paced replay got when Ctrl-C stops it, and that nothing was written (it died without a word)', async () => {
    const demo = path.join(dir, 'paced');
    expect(runCli(['demo', '--minutes', '2', '--no-replay', '--out', demo]).code).toBe(0);
    const out = path.join(dir, 'paced-out');
    // The dashboard's line comes just before the replay listens for the signal (before it, Node's own silent exit).
    const r = startCli(['replay', '--from', demo, '--speed', '1x', '--out', out, '--ui', '--ui-port', '0']);
    await r.waitFor(/^dashboard at /m);
    await sleep(1_500);
    r.child.kill('SIGINT');
    await r.exited;
    // It still dies of the signal (a shell loop running it stops too).
    expect(r.child.signalCode, r.stderr).toBe('SIGINT');
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('dashboard at '));
    expect(lines).toEqual([expect.stringMatching(/^tapedeck: replay stopped \(SIGINT\) after [\d,]+ of [\d,]+ events: nothing written to \S+paced-out$/)]);
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });

  it('warns when a re-served recording holds nothing of one exchange asked for (its clients waited for ever, unwarned)', async () => {
    const demo = path.join(dir, 'sim-half');
    expect(runCli(['demo', '--minutes', '1', '--exchanges', 'binance', '--no-replay', '--out', demo]).code).toBe(0);
    const sim = startCli(['simulate', '--from', demo, '--exchanges', 'binance,coinbase', '--port', '0']);
    try {
      await sim.waitFor(/^record from it: /m);
      const warnings = sim.stderr.split('\n').filter((l) => l !== '');
      expect(warnings).toEqual([expect.stringMatching(/^tapedeck: warning: \S+sim-half holds no frame of coinbase: ws:\/\/127\.0\.0\.1:\d+\/coinbase will send nothing$/)]);
    } finally {
      sim.child.kill('SIGTERM');
      expect(await sim.exited).toBe(0);
    }
    // Both there: no warning.
    const both = path.join(dir, 'sim-both');
    expect(runCli(['demo', '--minutes', '1', '--no-replay', '--out', both]).code).toBe(0);
    const whole = startCli(['simulate', '--from', both, '--exchanges', 'binance,coinbase', '--port', '0']);
    try {
      await whole.waitFor(/^record from it: /m);
      expect(whole.stderr).toBe('');
    } finally {
      whole.child.kill('SIGTERM');
      await whole.exited;
    }
  });

  it('runs a demo again over its own archive, and never over a recording\'s (demo --out data, where record wrote data/raw)', () => {
    const files = (d: string): string[] => fs.readdirSync(d, { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).sort();
    const own = path.join(dir, 'demo-again');
    // A seed below 0 too (its session is sim--5-…).
    for (const run of ['first', 'second']) expect(runCli(['demo', '--minutes', '1', '--seed', '-5', '--no-replay', '--out', own]).code, `${run} demo`).toBe(0);
    const recorded = path.join(dir, 'recorded');
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', path.join(recorded, 'raw')]).code).toBe(0);
    const before = files(path.join(recorded, 'raw'));
    const r = runCli(['demo', '--minutes', '1', '--no-replay', '--out', recorded]);
    expect(r.code, r.stderr).toBe(2);
    const [line, ...more] = r.stderr.split('\n');
    expect(more, 'one line').toEqual(['']);
    expect(before.map((f) => path.join(recorded, 'raw', f))).toContain(/ holds (\S+\.parquet), not /.exec(line!)?.[1]);
    expect(line).toBe(`tapedeck: ${path.join(recorded, 'raw')} holds ${/ holds (\S+), not /.exec(line!)![1]}, not an earlier demo's file: a demo replaces its archive folder whole, so it does not write there (give another --out)`);
    expect(files(path.join(recorded, 'raw'))).toEqual(before);
  });

  it('refuses a verify --out that is or lies in the live run\'s folder, which stays as it was', () => {
    const arc = path.join(dir, 'verify-live');
    const live = path.join(arc, 'out');
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', path.join(arc, 'raw')]).code).toBe(0);
    expect(runCli(['replay', '--from', arc, '--out', live]).code).toBe(0);
    const manifest = fs.readFileSync(path.join(live, 'manifest.json'));
    for (const [out, where] of [[live, 'is'], [path.join(live, 'sub'), 'lies in']] as const) {
      const r = runCli(['verify', '--recording', path.join(arc, 'raw'), '--live', live, '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`tapedeck: --out ${out} ${where} the live run's folder ${live}: the replay's tables would overwrite or mix with the live ones; give another --out\n`);
    }
    expect(fs.readFileSync(path.join(live, 'manifest.json')).equals(manifest), 'the live manifest is untouched').toBe(true);
    expect(fs.existsSync(path.join(live, 'sub'))).toBe(false);
    // A folder that holds the live one is another folder: the replay writes its own files there, beside it.
    const beside = runCli(['verify', '--recording', path.join(arc, 'raw'), '--live', live, '--out', arc]);
    expect(beside.code, beside.stderr).toBe(0);
    expect(fs.readFileSync(path.join(live, 'manifest.json')).equals(manifest)).toBe(true);
  });

  it('refuses two recordings under one session id read together, which dropped one\'s events without a word', () => {
    // One demo seed for other exchanges: one session id, each numbering its own events from 0.
    const both = path.join(dir, 'one-session-twice');
    for (const x of ['binance', 'coinbase']) expect(runCli(['demo', '--minutes', '1', '--exchanges', x, '--no-replay', '--out', path.join(both, x)]).code).toBe(0);
    for (const thread of ['0', '1']) {
      const r = runCli(['replay', '--from', both, '--out', path.join(dir, `one-session-out-${thread}`)], { TAPEDECK_READ_THREAD: thread });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe('tapedeck: session sim-42-20240809T000000Z has two different events numbered 0 (two recordings under one session id?): replay them from separate folders\n');
    }
  });

  it('refuses a folder with raw/ and archive folders beside it (an import there before a demo or record), which replayed raw/ alone', () => {
    const mixed = path.join(dir, 'mixed');
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', mixed]).code).toBe(0);
    expect(runCli(['demo', '--minutes', '1', '--no-replay', '--out', mixed]).code).toBe(0);
    const r = runCli(['replay', '--from', mixed, '--out', path.join(dir, 'mixed-out')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`tapedeck: ${mixed} holds an archive in raw/ and archive folders beside it (venue=coinbase), which a replay of raw/ would leave out: move them into ${path.join(mixed, 'raw')} to replay them with it, or raw/ out of ${mixed} to replay them apart\n`);
  });

  it('refuses an import of a session another live import is writing into the same --out (both overwrote each other and said they had it whole)', () => {
    const first = runCli(['import', junkLines, '--format', 'cryptofeed', '--out', path.join(dir, 'lock-probe')]);
    const session = /^imported (\S+) /.exec(first.stdout)![1]!;
    const out = path.join(dir, 'locked');
    // Held by a live process (this one), as a concurrent import holds it.
    const release = lockSession(out, session);
    try {
      const r = runCli(['import', junkLines, '--format', 'cryptofeed', '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`tapedeck: ${out}: session ${session} is being imported there by another import (it holds ${path.join(out, `.${session}.lock`)}); wait for it to end, or import into another --out\n`);
      expect(fs.readdirSync(out)).toEqual([`.${session}.lock`]);
    } finally {
      release();
    }
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', out]).code, 'imported once the claim is let go').toBe(0);
  });

  it.runIf(REAL !== undefined)('imports a gzip file whatever the case of its .gz (UPPER.GZ was read as text and called the wrong --format)', () => {
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(REAL!, 'binance/hftbacktest/btcusdt_20240808.gz'))).toString('utf8').split('\n').slice(0, 200).join('\n');
    const upper = path.join(dir, 'BTCUSDT_20240808.GZ');
    fs.writeFileSync(upper, zlib.gzipSync(`${lines}\n`));
    const r = runCli(['import', upper, '--format', 'hftbacktest', '--out', path.join(dir, 'upper')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^imported hftbacktest-btcusdt-\S+ \(binance\): 200 events /);
  });

  it('keeps unreadable lines of an import as error events instead of dropping them', () => {
    const out = path.join(dir, 'kept');
    const r = runCli(['import', junkLines, '--format', 'cryptofeed', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 unreadable lines kept as error events/);
  });
});
