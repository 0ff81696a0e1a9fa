/**
 * The decoded-event cache (replayer/decode-cache.ts) through the CLI a user runs: a replay
 * that finds no cache writes one, the next reads it, and every file either writes is
 * byte-identical to a replay without a cache — on a simulator session of all five
 * exchanges with fault drills (gaps, a truncated frame, unknown messages, an aggregator's
 * venues), on the real BTCUSDT recording, over a time range, and under a backtest. A cache
 * that is damaged, or is another replay's under this one's name, or cannot be written, never
 * changes an output: it is removed and the archive decoded again; one whose events are not
 * those the engine asks the adapters about stops the replay in one line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDecodeCache } from '../../replayer/decode-cache.ts';
import { planArchive, readArchiveBatches } from '../../replayer/read.ts';
import { TapedeckError } from '../../src/errors.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { REAL, real, runCli, tmpDir } from '../helpers.ts';

const dir = tmpDir();
const SIM = path.join(dir, 'sim', 'raw');
const BTC = path.join(dir, 'btc', 'raw');

/** Every file a run wrote, by name. */
function files(out: string): Record<string, Buffer> {
  return Object.fromEntries(fs.readdirSync(out).sort().map((f) => [f, fs.readFileSync(path.join(out, f))]));
}

const caches = (cache: string): string[] => (fs.existsSync(cache) ? fs.readdirSync(cache).sort() : []);

let runs = 0;
/** One CLI run with the cache in `cache` ('off': none); its output folder, stdout and stderr. */
function run(cache: string, args: string[], env: Record<string, string> = {}): { out: string; stdout: string; stderr: string } {
  const out = path.join(dir, `out-${runs++}`);
  const r = runCli([...args, '--out', out], { TAPEDECK_DECODE_CACHE: cache, ...env });
  expect(r.stderr.split('\n').filter((l) => !l.includes('were not decoded') && !l.includes('was not decoded')).join(''), r.stderr).toBe('');
  expect(r.code, r.stderr).toBe(0);
  return { out, stdout: r.stdout, stderr: r.stderr };
}

/** Without a cache, writing one, reading it: the same files each time. */
function threeWays(args: string[]): string {
  const cache = tmpDir('tapedeck-cache-');
  const none = run('off', args);
  expect(none.stdout).not.toContain('decoded by an earlier replay');
  // Written while the archive is read on a reader thread (as archives of 400k events and more
  // are; the golden test writes one read in line), then read in place of the archive.
  const writing = run(cache, args, { TAPEDECK_READ_THREAD: '1' });
  expect(caches(cache)).toHaveLength(1);
  const reading = run(cache, args);
  if (args[0] === 'replay') {
    expect(writing.stdout).not.toContain('decoded by an earlier replay');
    expect(reading.stdout).toContain('its frames decoded by an earlier replay');
  }
  expect(files(writing.out)).toStrictEqual(files(none.out));
  expect(files(reading.out)).toStrictEqual(files(none.out));
  return cache;
}

describe('the decoded-event cache', () => {
  beforeAll(() => {
    const demo = runCli(['demo', '--minutes', '40', '--seed', '5', '--exchanges', 'binance,coinbase,bitstamp,kraken,cryptocompare', '--no-replay', '--out', path.join(dir, 'sim')]);
    expect(demo.code, demo.stderr).toBe(0);
    if (REAL) {
      const files = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`));
      const imp = runCli(['import', ...files, '--format', 'hftbacktest', '--out', BTC]);
      expect(imp.code, imp.stderr).toBe(0);
    }
  });

  it('changes no output of a replay of five simulated exchanges with fault drills', () => {
    const cache = threeWays(['replay', '--from', SIM, '--speed', 'max']);
    // The engine's settings do not decide what the adapters make: one cache serves other windows.
    const other = ['replay', '--from', SIM, '--speed', 'max', '--windows', '1m,15m', '--rsi', '5'];
    const none = run('off', other);
    const reading = run(cache, other);
    expect(reading.stdout).toContain('decoded by an earlier replay');
    expect(caches(cache)).toHaveLength(1);
    expect(files(reading.out)).toStrictEqual(files(none.out));
  });

  it.skipIf(!REAL)('changes no output of the real BTCUSDT recording, whole and over a time range', () => {
    const cache = threeWays(['replay', '--from', BTC, '--speed', 'max']);
    // A range is another sequence of decode calls (the adapters start fresh at its start): a cache of its own.
    const ranged = ['replay', '--from', BTC, '--speed', 'max', '--start', '2024-08-08T23:30:00Z', '--end', '2024-08-09T00:30:00Z'];
    const none = run('off', ranged);
    const writing = run(cache, ranged);
    expect(caches(cache)).toHaveLength(2);
    const reading = run(cache, ranged);
    expect(reading.stdout).toContain('decoded by an earlier replay');
    expect(files(writing.out)).toStrictEqual(files(none.out));
    expect(files(reading.out)).toStrictEqual(files(none.out));
  });

  it('changes no output of a backtest', () => {
    threeWays(['backtest', '--strategy', 'arb-taker', '--from', SIM, '--fees', 'binance=1,coinbase=1']);
  });

  it('is decoded again when damaged, and its replays are unchanged', () => {
    const cache = tmpDir('tapedeck-cache-');
    const args = ['replay', '--from', SIM, '--speed', 'max'];
    const first = run(cache, args);
    const [name] = caches(cache);
    const file = path.join(cache, name!);
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x55;
    fs.writeFileSync(file, bytes);
    const out = path.join(dir, `out-${runs++}`);
    const r = runCli([...args, '--out', out], { TAPEDECK_DECODE_CACHE: cache });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^tapedeck: warning: the decoded-event cache \S+ cannot be used \(its SHA-256 differs from the one it was written with\): removed, decoding the archive again\n/);
    expect(r.stdout).not.toContain('decoded by an earlier replay');
    expect(files(out)).toStrictEqual(files(first.out));
    // Written anew: the next replay reads it.
    expect(run(cache, args).stdout).toContain('decoded by an earlier replay');
    // Cut short: the same.
    fs.truncateSync(file, 1000);
    const cut = runCli([...args, '--out', path.join(dir, `out-${runs++}`)], { TAPEDECK_DECODE_CACHE: cache });
    expect(cut.code).toBe(0);
    expect(cut.stderr).toContain('cannot be used (not a decoded-event cache of this tapedeck)');
  });

  it.skipIf(!REAL)("is not used when it is another replay's under this one's name, and the replay is unchanged", () => {
    const cache = tmpDir('tapedeck-cache-');
    run(cache, ['replay', '--from', BTC, '--speed', 'max']);
    const [btc] = caches(cache);
    const sim = tmpDir('tapedeck-cache-');
    const args = ['replay', '--from', SIM, '--speed', 'max'];
    const first = run(sim, args);
    const [name] = caches(sim);
    // A whole, valid cache, but of the BTCUSDT replay: used, it would replay BTCUSDT's events.
    fs.copyFileSync(path.join(cache, btc!), path.join(sim, name!));
    const out = path.join(dir, `out-${runs++}`);
    const r = runCli([...args, '--out', out], { TAPEDECK_DECODE_CACHE: sim });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^tapedeck: warning: the decoded-event cache \S+ cannot be used \(it was written for another replay: other archive files, sessions, range or code\): removed, decoding the archive again\n/);
    expect(r.stdout).not.toContain('decoded by an earlier replay');
    expect(files(out)).toStrictEqual(files(first.out));
    expect(run(sim, args).stdout).toContain('decoded by an earlier replay');
  });

  it('stops in one line, and is removed, when the engine asks the adapters about other events than it holds', async () => {
    const settings = { dir: tmpDir('tapedeck-cache-'), capBytes: 2 ** 30 };
    const plan = await planArchive(SIM);
    const writing = openDecodeCache(plan, {}, () => {}, settings)!;
    expect(writing.state).toBe('writing');
    for await (const batch of readArchiveBatches(plan)) {
      for (const ev of batch) {
        writing.tap!(ev);
        if (ev.kind !== 'tick') writing.decoders(ev.exchange)?.decode(ev);
      }
    }
    expect(writing.finish()).toBe('written');
    const found = openDecodeCache(plan, {}, () => {}, settings)!;
    expect(found.state).toBe('found');
    const it = found.batches![Symbol.asyncIterator]();
    const batch = (await it.next()).value as LogEvent[];
    const frame = batch.find((ev) => ev.kind === 'frame' && ev.exchange === 'binance')!;
    // The same event's fields in another object: not the event the cache gave out.
    const ask = (): unknown => found.decoders('binance')!.decode({ ...frame });
    expect(ask).toThrow(TapedeckError);
    expect(ask).toThrow(/^the decoded-event cache \S+ does not match this replay \(the engine asked an adapter about .* ns, the cache has .* next\); it was removed: run the replay again$/);
    expect(caches(settings.dir)).toEqual([]);
  });

  it('is off with TAPEDECK_DECODE_CACHE=off, keeps within TAPEDECK_DECODE_CACHE_MB, and says why it cannot be written', () => {
    const args = ['replay', '--from', SIM, '--speed', 'max'];
    const none = run('off', args);
    const cache = tmpDir('tapedeck-cache-');
    const r = runCli([...args, '--out', path.join(dir, `out-${runs++}`)], { TAPEDECK_DECODE_CACHE: cache, TAPEDECK_DECODE_CACHE_MB: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(caches(cache), 'no room: nothing kept').toEqual([]);
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    const out = path.join(dir, `out-${runs++}`);
    const w = runCli([...args, '--out', out], { TAPEDECK_DECODE_CACHE: path.join(blocked, 'cache') });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/^tapedeck: warning: no decoded-event cache: cannot write in \S+ \(.*\); set TAPEDECK_DECODE_CACHE to a folder that can, or to off\n/);
    expect(files(out)).toStrictEqual(files(none.out));
    const bad = runCli([...args, '--out', path.join(dir, `out-${runs++}`)], { TAPEDECK_DECODE_CACHE: cache, TAPEDECK_DECODE_CACHE_MB: 'lots' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tapedeck: TAPEDECK_DECODE_CACHE_MB must be a number of megabytes (0 or more), not "lots"\n');
  });
});
