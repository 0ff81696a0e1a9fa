/** Bad input gets one clear line on stderr and exit code 2, never a stack trace. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tmpDir } from '../helpers.ts';

const dir = tmpDir();
const junkArchive = path.join(dir, 'junk');
fs.mkdirSync(junkArchive);
fs.writeFileSync(path.join(junkArchive, 'x.parquet'), 'this is not parquet');
const emptyDir = path.join(dir, 'empty');
fs.mkdirSync(emptyDir);
const junkLines = path.join(dir, 'COINBASE.ws.1.0');
fs.writeFileSync(junkLines, '1618677817.061845: {"type":"match"}\nthis line is garbage\n');

const cases: [string, string[], RegExp][] = [
  ['a missing archive', ['replay', '--from', path.join(dir, 'nope')], /archive not found/],
  ['an archive with no Parquet files', ['replay', '--from', emptyDir], /no \.parquet files/],
  ['an unreadable Parquet file', ['replay', '--from', junkArchive, '--out', path.join(dir, 'o1')], /cannot read .*x\.parquet/],
  ['a bad --speed', ['replay', '--from', junkArchive, '--speed', 'fast'], /bad --speed "fast"/],
  ['a bad window spec', ['replay', '--from', junkArchive, '--windows', '7s'], /bad window 7s/],
  ['a bad --start', ['replay', '--from', junkArchive, '--start', 'yesterday'], /not a time/],
  ['--start later than --end', ['replay', '--from', junkArchive, '--start', '2024-08-09T01:00:00Z', '--end', '2024-08-09T00:00:00Z'], /--start 2024-08-09T01:00:00Z is not before --end 2024-08-09T00:00:00Z/],
  ['an unknown import format', ['import', junkLines, '--format', 'tardis'], /unknown --format "tardis"/],
  ['a missing import file', ['import', path.join(dir, 'missing.gz'), '--format', 'hftbacktest'], /no such file/],
  ['an unknown command', ['frobnicate'], /Unknown argument|Unknown command/i],
];

describe('CLI errors', () => {
  it.each(cases)('%s', (_what, args, message) => {
    const r = runCli(args);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(message);
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
  });

  it('replays a record/import --out folder (it holds raw/) as its archive', () => {
    const out = path.join(dir, 'imported');
    expect(runCli(['import', junkLines, '--format', 'cryptofeed', '--out', path.join(out, 'raw')]).code).toBe(0);
    expect(runCli(['replay', '--from', out, '--out', path.join(out, 'out')]).code, 'first replay').toBe(0);
    const again = runCli(['replay', '--from', out, '--out', path.join(out, 'out2')]);
    expect(again.code, `outputs beside raw/ are not read as archive files: ${again.stderr}`).toBe(0);
  });

  it('keeps unreadable lines of an import as error events instead of dropping them', () => {
    const out = path.join(dir, 'kept');
    const r = runCli(['import', junkLines, '--format', 'cryptofeed', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 unreadable lines kept as error events/);
  });
});
