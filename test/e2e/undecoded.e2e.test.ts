/**
 * Unknown data is never silent (issue 11 §3): a recording whose frames no adapter decodes
 * says so on stderr at import and at replay, per exchange and channel, and the manifest
 * keeps the counts the lines are made from. On the real Kraken v1 recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { undecodedLines } from '../../src/exchanges/undecoded.ts';
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
});
