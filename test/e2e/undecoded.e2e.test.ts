/**
 * Unknown data is never silent (issue 11 §3): a recording whose frames no adapter decodes
 * says so on stderr at import and at replay, per exchange and channel, and the manifest
 * keeps the counts the lines are made from. On the real Kraken v1 recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { idRunLines, undecodedLines } from '../../src/exchanges/undecoded.ts';
import { newCounts } from '../../src/market/events.ts';
import { REAL, readLines, real, runCli, tmpDir } from '../helpers.ts';

const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('tapedeck: warning: '));

describe('undecodedLines', () => {
  it('says each exchange without an adapter, and each channel an adapter does not read, most first', () => {
    const c = newCounts();
    c.recognised.depthUpdate = 3;
    c.recognised.kline = 1;
    c.unknown.brandNew = 5;
    expect(undecodedLines({ gemini: 7 }, { binance: c })).toEqual([
      '5 binance frames were not decoded (unknown message "brandNew")',
      '3 binance frames were not decoded (no adapter for channel "depthUpdate")',
      '1 binance frame was not decoded (no adapter for channel "kline")',
      '7 gemini frames were not decoded (no adapter for exchange "gemini")',
    ]);
  });

  it('sums what is past the line limit into one line, so a fuzzed feed does not flood the screen', () => {
    const c = newCounts();
    for (let i = 0; i < 20; i++) c.unknown[`t${String(i).padStart(2, '0')}`] = 1;
    const lines = undecodedLines({}, { coinbase: c });
    expect(lines).toHaveLength(9);
    expect(lines[8]).toBe('12 more coinbase frames were not decoded (12 other channels or message types; see manifest.json stats.decode.coinbase)');
  });

  it('says nothing when everything was decoded', () => {
    expect(undecodedLines({}, { binance: newCounts() })).toEqual([]);
  });
});

describe.skipIf(!REAL)('a recording tapedeck cannot fully decode, through the CLI', () => {
  it('warns at import and at replay with the manifest\'s counts', () => {
    const dir = tmpDir();
    const files = ['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0', 'KRAKEN.ws.50.0'].map((f) => real(`kraken/cryptofeed/${f}`));
    // Received frames: lines `<time>: <frame>` (sent and open lines have a URL first).
    const received = files.flatMap((f) => readLines(f)).filter((l) => /^\d+(\.\d+)?: /.test(l));
    const imp = runCli(['import', '--format', 'cryptofeed', ...files, '--out', path.join(dir, 'raw')]);
    expect(imp.code, imp.stderr).toBe(0);
    const rep = runCli(['replay', '--from', path.join(dir, 'raw'), '--out', path.join(dir, 'out')]);
    expect(rep.code, rep.stderr).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8')) as {
      stats: { undecodedFrames: Record<string, number>; decode: Record<string, ReturnType<typeof newCounts>> };
    };
    const lines = undecodedLines(m.stats.undecodedFrames, m.stats.decode);
    expect(lines.length, 'the Kraken recording holds frames tapedeck does not decode').toBeGreaterThan(0);
    expect(warnings(imp.stderr), 'import says it').toEqual(lines.map((l) => `tapedeck: warning: ${l}`));
    expect(warnings(rep.stderr), 'replay says the same, from the manifest\'s counts').toEqual(lines.map((l) => `tapedeck: warning: ${l}`));
    const said = lines.reduce((n, l) => n + Number(/^(\d+) /.exec(l)![1]), 0);
    expect(said, 'every received frame is decoded or said').toBeLessThanOrEqual(received.length);
    expect(said, 'the order-book frames (file 50: 4,279) at least are said').toBeGreaterThanOrEqual(4_279);
  });

  it('replays every trade of two sessions of one market whose trade ids do not continue each other, and says so', () => {
    // A real Binance session (ids near 3.7e9, 2024-08-08 23:54) and a simulated one (ids from 1,
    // 2024-08-09 00:00) in one archive: every simulated BTCUSDT trade had a lower id than the
    // real ones before it, and all of them were dropped as repeats, exit 0, without a word.
    const dir = tmpDir();
    const raw = path.join(dir, 'raw');
    expect(runCli(['demo', '--minutes', '5', '--no-replay', '--exchanges', 'binance', '--out', dir]).code).toBe(0);
    const alone = runCli(['replay', '--from', raw, '--windows', '1m', '--out', path.join(dir, 'sim')]);
    expect(alone.code, alone.stderr).toBe(0);
    const lines = readLines(real('binance/hftbacktest/btcusdt_20240808.gz')).slice(0, 400);
    fs.writeFileSync(path.join(dir, 'btcusdt_20240808.txt'), `${lines.join('\n')}\n`);
    const imp = runCli(['import', path.join(dir, 'btcusdt_20240808.txt'), '--format', 'hftbacktest', '--out', dir]);
    expect(imp.code, imp.stderr).toBe(0);
    const realAlone = tmpDir();
    expect(runCli(['import', path.join(dir, 'btcusdt_20240808.txt'), '--format', 'hftbacktest', '--out', realAlone]).code).toBe(0);
    const both = runCli(['replay', '--from', raw, '--windows', '1m', '--out', path.join(dir, 'both')]);
    expect(both.code, both.stderr).toBe(0);
    const realOnly = runCli(['replay', '--from', realAlone, '--windows', '1m', '--out', path.join(dir, 'real')]);
    expect(realOnly.code, realOnly.stderr).toBe(0);
    type M = { stats: { decode: Record<string, ReturnType<typeof newCounts>> }; tables: Record<string, { rows: number }> };
    const m = (d: string): M => JSON.parse(fs.readFileSync(path.join(dir, d, 'manifest.json'), 'utf8')) as M;
    expect(m('both').tables.candles!.rows, 'the candles of both sessions').toBe(m('sim').tables.candles!.rows + m('real').tables.candles!.rows);
    expect(m('both').stats.decode.binance!.duplicates).toBe(m('sim').stats.decode.binance!.duplicates + m('real').stats.decode.binance!.duplicates);
    expect(m('both').stats.decode.binance!.idRuns).toBe(1);
    expect(warnings(both.stderr)).toContain(`tapedeck: warning: ${idRunLines(m('both').stats.decode)[0]}`);
    expect(idRunLines(m('both').stats.decode)[0]).toMatch(/^once a binance symbol's trade ids started again lower at a later time/);
  });
});
