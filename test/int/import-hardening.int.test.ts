/**
 * Import hardening (issue 10 items 6 and 8): a file with no readable line is refused in one
 * line with exit 2 and nothing written; receive times past 2^63 - 1 ns, negative or
 * non-numeric become `error` events instead of aborting mid-archive; no temp file is ever
 * left. And the fast line reader keeps every line of the real recordings, exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, importRecordings } from '../../src/importers/import.ts';
import { REAL, ROOT, readLines, real, runCli, tmpDir, filesUnder, readArchiveEvents } from '../helpers.ts';


describe('import hardening', () => {
  it('refuses a file with no readable line (README.md as hftbacktest): one line, exit 2, nothing written', () => {
    const out = path.join(tmpDir(), 'raw');
    const r = runCli(['import', path.join(ROOT, 'README.md'), '--format', 'hftbacktest', '--out', out]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n'), 'one line').toHaveLength(1);
    expect(r.stderr).toMatch(/^tapedeck: .*README\.md: no line in the hftbacktest format \(\d+ unreadable lines; is this the right --format\?\)/);
    expect(filesUnder(out), 'no 1970-dated session of error events').toEqual([]);
  });

  it('keeps out-of-range, negative and non-numeric receive times as error events; no partial archive, no .tmp', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809.gz');
    const good = (ns: bigint, t: number): string => `${ns} {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":${t}}}`;
    const t0 = 1_723_161_600_001_000_000n;
    const lines = [
      'garbage before anything', good(t0, 1), '9223372036854775808 {"too":"late"}', good(t0 + 5n, 2), '-5 {"negative":1}',
      'abc {"nan":1}', '99999999999999999999 {"x":1}', '9223372036854775807 {"max":1}', good(t0 + 9n, 3),
    ];
    fs.writeFileSync(file, zlib.gzipSync(`${lines.join('\n')}\n`));
    const out = path.join(dir, 'raw');
    const [s] = await importRecordings([file], { format: 'hftbacktest', out, maxRows: 3 });
    expect(s!.events, 'nothing dropped').toBe(lines.length);
    expect(s!.badLines).toBe(5);
    const evs = await readArchiveEvents(out);
    expect(evs.map((e) => e.payload), 'every line kept, in order').toEqual(lines.map((l, i) => ([1, 3, 7, 8].includes(i) ? l.slice(l.indexOf(' ') + 1) : l)));
    expect(evs.map((e) => e.kind)).toEqual(['error', 'frame', 'error', 'frame', 'error', 'error', 'error', 'frame', 'frame']);
    expect(evs[0]!.recvNs, 'an error before the first readable line takes its time, not 1970').toBe(t0);
    expect(evs[2]!.meta).toMatch(/btcusdt_20240809\.gz:3: receive time 9223372036854775808 is past 2\^63 - 1 ns/);
    expect(evs[7]!.recvNs, '2^63 - 1 itself is a time').toBe(2n ** 63n - 1n);
    expect(filesUnder(out).filter((f) => f.endsWith('.tmp') || f.includes('1970'))).toEqual([]);
  });

  it.skipIf(!REAL)('reads every line of the real BTCUSDT session exactly (fast line splitter vs. a plain split)', async () => {
    const inputs = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`));
    const want = inputs.flatMap((f) => readLines(f));
    const out = path.join(tmpDir(), 'raw');
    const [s] = await importRecordings(inputs, { format: 'hftbacktest', out });
    expect(s!.badLines).toBe(0);
    const evs = await readArchiveEvents(out);
    expect(evs.length).toBe(want.length);
    evs.forEach((e, i) => {
      const w = want[i]!;
      const sp = w.indexOf(' ');
      if (e.payload !== w.slice(sp + 1) || e.recvNs !== BigInt(w.slice(0, sp))) expect(e, `line ${i + 1}`).toEqual(w);
    });
    expect(s!.byKind).toEqual({ frame: 99_573, rest: 1 });
  });

  it.skipIf(!REAL)('keeps the readable start of a gzip file cut short (a collector that died mid-write), marks where it ends, warns, and goes on to the next file', () => {
    const dir = tmpDir();
    const [day1, day2] = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`)) as [string, string];
    const whole = fs.readFileSync(day1);
    const cutFile = path.join(dir, 'btcusdt_20240808.gz');
    fs.writeFileSync(cutFile, whole.subarray(0, Math.floor(whole.length * 0.6)));
    // What a reader that stops at the cut gets (computed apart from tapedeck's reader): its whole lines, then a partial one.
    const prefix = zlib.gunzipSync(fs.readFileSync(cutFile), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1');
    const wholeLines = prefix.slice(0, prefix.lastIndexOf('\n')).split('\n');
    const partial = prefix.slice(prefix.lastIndexOf('\n') + 1);
    const out = path.join(dir, 'raw');
    const r = runCli(['import', cutFile, day2, '--format', 'hftbacktest', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const lineNo = wholeLines.length + (partial === '' ? 0 : 1);
    const said = r.stderr.trim().split('\n');
    expect(said[0]).toBe(`tapedeck: warning: btcusdt_20240808.gz: cut short after line ${lineNo} (unexpected end of file); the lines before it were imported`);
    expect(said.slice(1).every((l) => /^tapedeck: warning: \d+ binance frames? (was|were) not decoded/.test(l)), said.join('\n')).toBe(true);
    return readArchiveEvents(out).then((evs) => {
      const second = readLines(day2);
      expect(evs.length, 'the readable lines, the partial one and the mark, then all of the next file').toBe(wholeLines.length + (partial === '' ? 0 : 1) + 1 + second.length);
      const at = wholeLines.length;
      evs.slice(0, at).forEach((e, i) => {
        const w = wholeLines[i]!;
        if (e.payload !== w.slice(w.indexOf(' ') + 1)) expect(e.payload, `line ${i + 1}`).toBe(w);
      });
      // The partial line is kept as it is (its JSON cut short: the replay's decoder will say so), then the mark.
      if (partial !== '') expect(partial.endsWith(evs[at]!.payload), 'the partial line, kept').toBe(true);
      const mark = evs[at + (partial === '' ? 0 : 1)]!;
      expect(mark.kind).toBe('error');
      expect(mark.meta).toBe(`btcusdt_20240808.gz: cut short after line ${lineNo} (unexpected end of file); the lines before it were imported`);
      expect(evs.filter((e) => e.kind === 'error'), 'the one mark').toEqual([mark]);
      expect(evs.slice(-second.length).map((e) => e.payload)).toEqual(second.map((w) => w.slice(w.indexOf(' ') + 1)));
    });
  });

  it.skipIf(!REAL)('imports every line of a gzip file with trailing garbage, as gzip does, and says how many bytes it ignored (gunzip failed on them: a small file was refused, a large one lost its last chunk)', async () => {
    const dir = tmpDir();
    const [day1, day2] = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`)) as [string, string];
    const garbage = Buffer.from('\r\n<html>502 Bad Gateway</html>\r\n');
    const small = path.join(dir, 'ethusdt_20240809.gz');
    const smallLines = [`${1_723_161_600_001_000_000n} {"stream":"ethusdt@trade","data":{"e":"trade","s":"ETHUSDT","t":1}}`];
    fs.writeFileSync(small, Buffer.concat([zlib.gzipSync(`${smallLines.join('\n')}\n`), garbage]));
    const large = path.join(dir, 'btcusdt_20240808.gz');
    // Two members (a collector that appends a member per flush), then the garbage.
    const whole = zlib.gunzipSync(fs.readFileSync(day1));
    const half = whole.indexOf(10, whole.length >> 1) + 1;
    fs.writeFileSync(large, Buffer.concat([zlib.gzipSync(whole.subarray(0, half)), zlib.gzipSync(whole.subarray(half)), garbage]));
    const out = path.join(dir, 'raw');
    const r = runCli(['import', small, large, day2, '--format', 'hftbacktest', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const said = r.stderr.trim().split('\n').filter((l) => !/ (was|were) not decoded/.test(l));
    const lines = readLines(day1);
    expect(said).toEqual([
      `tapedeck: warning: ethusdt_20240809.gz: ${garbage.length} bytes after its last gzip member (after line 1) are not gzip, ignored as gzip ignores trailing garbage; every line before them was imported`,
      `tapedeck: warning: btcusdt_20240808.gz: ${garbage.length} bytes after its last gzip member (after line ${lines.length}) are not gzip, ignored as gzip ignores trailing garbage; every line before them was imported`,
    ]);
    const evs = await readArchiveEvents(out);
    const frames = (exchangeSymbol: string): string[] => evs.filter((e) => e.kind !== 'error' && e.payload.includes(exchangeSymbol)).map((e) => e.payload);
    expect(frames('ethusdt@'), 'the small file\'s line').toEqual(smallLines.map((l) => l.slice(l.indexOf(' ') + 1)));
    const btc = evs.filter((e) => e.kind !== 'error' && !e.payload.includes('ethusdt@')).map((e) => e.payload);
    const want = [...lines, ...readLines(day2)].map((l) => l.slice(l.indexOf(' ') + 1));
    expect(btc.length, 'every line of both days').toBe(want.length);
    expect(btc.every((p, i) => p === want[i]), 'in order, exactly').toBe(true);
    expect(evs.filter((e) => e.kind === 'error').map((e) => e.meta), 'each marked where its file ends').toEqual(said.map((l) => l.replace('tapedeck: warning: ', '')));
  });

  it('passes over a line longer than an import reads, as an error event, and reads the lines after it', async () => {
    // A line past V8's longest string (512 MiB) was taken for the end of the file: "cut short",
    // exit 0, every later line lost. Past MAX_LINE_BYTES (256 MiB) it is now one error event.
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809.gz');
    const t0 = 1_723_161_600_001_000_000n;
    const good = (i: number): string => `${t0 + BigInt(i)} {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":${i}}}`;
    const z = zlib.createGzip({ level: 1 });
    const parts: Buffer[] = [];
    z.on('data', (b: Buffer) => parts.push(b));
    const done = new Promise((r) => z.on('end', r));
    const head = `${t0 + 2n} {"huge":"`;
    z.write(`${good(1)}\n${head}`);
    const block = Buffer.alloc(1 << 20, 0x61);
    let long = head.length + 2;
    for (let n = 0; n <= MAX_LINE_BYTES; n += block.length, long += block.length) z.write(block);
    z.write(`"}\n${good(3)}\n${good(4)}`);
    z.end();
    await done;
    fs.writeFileSync(file, Buffer.concat(parts));
    const out = path.join(dir, 'raw');
    const [s] = await importRecordings([file], { format: 'hftbacktest', out });
    expect([s!.events, s!.badLines, s!.cutShort]).toEqual([4, 1, []]);
    const evs = await readArchiveEvents(out);
    expect(evs.map((e) => e.kind)).toEqual(['frame', 'error', 'frame', 'frame']);
    expect(evs[1]!.meta).toMatch(new RegExp(`^btcusdt_20240809\\.gz:2: a line of ${long} bytes, longer than an import reads \\(256 MiB\\); its text is not imported$`));
    expect(evs.slice(2).map((e) => e.payload)).toEqual([good(3), good(4)].map((l) => l.slice(l.indexOf(' ') + 1)));
  }, 120_000);

  it('keeps a line whose bytes are not UTF-8 as an error event, not as a frame with U+FFFD in it', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809.txt');
    const t0 = 1_723_161_600_001_000_000n;
    fs.writeFileSync(file, Buffer.concat([
      Buffer.from(`${t0} {"e":"trade","s":"BTCUSDT","t":1,"note":"café"}\n${t0 + 1n} {"e":"trade","s":"BTC`),
      Buffer.from([0xff, 0xfe]), Buffer.from(`USDT","t":2}\n${t0 + 2n} {"e":"trade","s":"BTCUSDT","t":3}\n`),
    ]));
    const out = path.join(dir, 'raw');
    const [s] = await importRecordings([file], { format: 'hftbacktest', out });
    expect([s!.events, s!.badLines]).toEqual([3, 1]);
    const evs = await readArchiveEvents(out);
    expect(evs.map((e) => e.kind)).toEqual(['frame', 'error', 'frame']);
    expect(evs[0]!.payload, 'UTF-8 is read as UTF-8').toBe('{"e":"trade","s":"BTCUSDT","t":1,"note":"café"}');
    expect(evs[1]!.meta).toBe('btcusdt_20240809.txt:2: bytes that are not UTF-8 (shown as U+FFFD)');
  });

  it('refuses a file named twice through a hard link, and a copy of one under another name; names the recordings imported before one that fails', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809.txt');
    fs.writeFileSync(file, `${1_723_161_600_001_000_000n} {"e":"trade","s":"BTCUSDT","t":1}\n`);
    fs.mkdirSync(path.join(dir, 'h'));
    fs.linkSync(file, path.join(dir, 'h', 'btcusdt_20240809.txt'));
    const twice = runCli(['import', file, path.join(dir, 'h', 'btcusdt_20240809.txt'), '--format', 'hftbacktest', '--out', path.join(dir, 'o1')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(`tapedeck: ${path.join(dir, 'h', 'btcusdt_20240809.txt')} is named twice (as ${file} too, a hard link to it): its events would be imported twice\n`);
    expect(fs.existsSync(path.join(dir, 'o1'))).toBe(false);
    // A copy under another name (a download saved twice): the same events, in a session of its own.
    const copy = path.join(dir, 'btcusdt_20240809 (1).txt');
    fs.copyFileSync(file, copy);
    const copied = runCli(['import', file, copy, '--format', 'hftbacktest', '--out', path.join(dir, 'o3')]);
    expect(copied.code).toBe(2);
    expect(copied.stderr).toBe(`tapedeck: ${copy} holds the same bytes as ${file} (a copy): its events would be imported twice\n`);
    expect(fs.existsSync(path.join(dir, 'o3'))).toBe(false);
    // Of one size but other bytes: two recordings, both imported.
    const other = path.join(dir, 'ethusdt_20240809.txt');
    fs.writeFileSync(other, fs.readFileSync(file, 'utf8').replace('BTCUSDT', 'ETHUSDT'));
    const both = runCli(['import', file, other, '--format', 'hftbacktest', '--out', path.join(dir, 'o4')]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/btcusdt[\s\S]*ethusdt/);
    fs.rmSync(other);
    // Two recordings; the second has no events: the first was imported whole and stays, and the line says so.
    const empty = path.join(dir, 'ethusdt_20240809.txt');
    fs.writeFileSync(empty, '');
    const r = runCli(['import', file, empty, '--format', 'hftbacktest', '--out', path.join(dir, 'o2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tapedeck: \S*ethusdt_20240809\.txt: no events; imported whole before it, and kept in \S*o2: hftbacktest-btcusdt-\S+ \(1 events\)\n$/);
  });
});
