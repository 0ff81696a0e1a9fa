/**
 * The decoded-event cache (replayer/decode-cache.ts) when things go wrong around it: an
 * archive file rewritten where its key could not see it, a cache folder that fills up, is
 * read-only or vanishes mid-replay, replays killed while they write. A replay's outputs are
 * those of a replay without a cache whatever happens to the cache, it never fails because of
 * the cache alone, and it leaves no temporary file that nothing will remove.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeCacheSettings, openDecodeCache } from '../../replayer/decode-cache.ts';
import { planArchive } from '../../replayer/read.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { ROOT, filesUnder, runCli, sleep, startCli, tmpDir } from '../helpers.ts';

const dir = tmpDir();
const DEMO = path.join(dir, 'demo', 'raw');

/** Every file a run wrote, by name. */
function files(out: string): Record<string, Buffer> {
  return Object.fromEntries(fs.readdirSync(out).sort().map((f) => [f, fs.readFileSync(path.join(out, f))]));
}

const caches = (cache: string): string[] => (fs.existsSync(cache) ? fs.readdirSync(cache).sort() : []);

/** Lines of stderr other than the adapters' counts of frames they do not read. */
const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l !== '' && !/ was not decoded| were not decoded/.test(l));

const temps = (cache: string): string[] => caches(cache).filter((f) => f.endsWith('.tmp'));

/** Resolves once `cache` holds a temporary file of the replay `pid` (it is writing its cache). */
async function writingIn(cache: string, pid: number | undefined): Promise<void> {
  for (let i = 0; !temps(cache).some((f) => f.includes(`.${pid}.`)); i++) {
    if (i > 1500) throw new Error(`no temporary file appeared in ${cache}`);
    await sleep(20);
  }
}

let runs = 0;
const outDir = (): string => path.join(dir, `out-${runs++}`);

/** One replay of `from` with the cache in `cache` ('off': none). */
function replay(from: string, cache: string, env: Record<string, string> = {}): { out: string; code: number; stdout: string; stderr: string } {
  const out = outDir();
  const r = runCli(['replay', '--from', from, '--speed', 'max', '--out', out], { TAPEDECK_DECODE_CACHE: cache, ...env });
  return { out, ...r };
}

/**
 * An archive of one session whose files carry no tapedeck.data_sha256 (another tool's files,
 * or tapedeck's from before the digest): uncompressed pages, so that a price can be rewritten
 * in place, and the digest's key renamed to one no reader knows.
 */
function undigestedArchive(root: string): string[] {
  const w = new ArchiveWriter(root, 'plain-1', { codec: 'UNCOMPRESSED' });
  for (const ev of simulateSession({ seed: 3, startMs: Date.UTC(2024, 7, 9), durationMs: 300_000, exchanges: ['binance', 'coinbase'], session: 'plain-1' })) w.write(ev);
  w.close();
  const written = filesUnder(root).filter((f) => f.endsWith('.parquet')).map((f) => path.join(root, f));
  for (const file of written) {
    const bytes = fs.readFileSync(file);
    const at = bytes.lastIndexOf('tapedeck.data_sha256');
    expect(at, 'the writer puts its digest in the footer').toBeGreaterThan(0);
    bytes.write('tapedeck.not_digest!', at);
    fs.writeFileSync(file, bytes);
  }
  return written;
}

describe('the decoded-event cache, faults around it', () => {
  afterEach(() => vi.restoreAllMocks());
  let none: Record<string, Buffer>;
  beforeAll(() => {
    const demo = runCli(['demo', '--minutes', '20', '--seed', '9', '--no-replay', '--out', path.join(dir, 'demo')]);
    expect(demo.code, demo.stderr).toBe(0);
    const r = replay(DEMO, 'off');
    expect(r.code, r.stderr).toBe(0);
    none = files(r.out);
  });

  it('is given up, in one line, when its disk is full, and the replay finishes unchanged', () => {
    const cache = tmpDir('tapedeck-cache-');
    const out = outDir();
    // A file-size limit of 300 KB (ulimit -f, in KB): the cache (~1 MB) outgrows it, the
    // tables do not. Node ignores SIGXFSZ, so a write past it fails with EFBIG, as one on a
    // full disk fails with ENOSPC.
    const r = spawnSync('sh', ['-c', 'ulimit -f 300 && exec "$0" "$@"', process.execPath, path.join(ROOT, 'src/cli/tapedeck.mjs'), 'replay', '--from', DEMO, '--speed', 'max', '--out', out], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1', TAPEDECK_DECODE_CACHE: cache }, timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(warnings(r.stderr)[0]).toMatch(/^tapedeck: warning: the decoded-event cache could not be written in \S+ \(EFBIG: .*\): the replay goes on without it$/);
    expect(files(out)).toStrictEqual(none);
    expect(caches(cache), 'the cut temporary file is removed at once (on a full disk, its room is the tables\'').toEqual([]);
  });

  it('is not written past TAPEDECK_DECODE_CACHE_MB: one line, nothing left, the replay unchanged; within it, kept', () => {
    const cache = tmpDir('tapedeck-cache-');
    // The 20-minute demo's cache is ~1 MB: a quarter of a megabyte cannot hold it.
    const small = replay(DEMO, cache, { TAPEDECK_DECODE_CACHE_MB: '0.25' });
    expect(small.code, small.stderr).toBe(0);
    expect(warnings(small.stderr)).toEqual([`tapedeck: warning: this replay's decoded-event cache would take more than TAPEDECK_DECODE_CACHE_MB (0.25 MB): it is not kept (raise TAPEDECK_DECODE_CACHE_MB to keep caches this large)`]);
    expect(files(small.out)).toStrictEqual(none);
    expect(caches(cache), 'stopped where it passed the cap, its temporary file removed').toEqual([]);
    const roomy = replay(DEMO, cache, { TAPEDECK_DECODE_CACHE_MB: '64' });
    expect(warnings(roomy.stderr)).toEqual([]);
    expect(caches(cache).filter((f) => f.endsWith('.tddc'))).toHaveLength(1);
    expect(files(roomy.out)).toStrictEqual(none);
  });

  it('reads ~/ in TAPEDECK_DECODE_CACHE as the home folder, and a cap of 0 as no cache', () => {
    expect(decodeCacheSettings({ TAPEDECK_DECODE_CACHE: '~/c/d' })?.dir).toBe(path.join(os.homedir(), 'c', 'd'));
    expect(decodeCacheSettings({ TAPEDECK_DECODE_CACHE: '/x', TAPEDECK_DECODE_CACHE_MB: '0' })).toBeUndefined();
    expect(decodeCacheSettings({ TAPEDECK_DECODE_CACHE: '/x', TAPEDECK_DECODE_CACHE_MB: '1' })).toEqual({ dir: '/x', capBytes: 1024 * 1024 });
  });

  it('is given up, in one line, when its folder is removed while a replay writes it, and the replay finishes unchanged', async () => {
    const parent = tmpDir('tapedeck-cache-');
    const cache = path.join(parent, 'decoded');
    const out = outDir();
    // Paced (20 min at 200x: ~6 s), so that it is still writing when its folder goes.
    const r = startCli(['replay', '--from', DEMO, '--speed', '200x', '--out', out], { TAPEDECK_DECODE_CACHE: cache });
    await writingIn(cache, r.child.pid);
    fs.rmSync(cache, { recursive: true, force: true });
    expect(await r.exited, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(warnings(r.stderr)[0]).toMatch(/^tapedeck: warning: the decoded-event cache could not be written in \S+ \(ENOENT: .*\): the replay goes on without it$/);
    // The manifest says how it was paced; the tables are the same.
    const { 'manifest.json': manifest, ...tables } = files(out);
    const { 'manifest.json': _, ...tablesNone } = none;
    expect(tables).toStrictEqual(tablesNone);
    expect(manifest).toBeDefined();
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it('is never used half-written when a replay writing it is killed, and the killed replays\' temporary files are removed by the next', async () => {
    const cache = tmpDir('tapedeck-cache-');
    for (const signal of ['SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
      const r = startCli(['replay', '--from', DEMO, '--speed', '200x', '--out', outDir()], { TAPEDECK_DECODE_CACHE: cache });
      await writingIn(cache, r.child.pid);
      r.child.kill(signal);
      await r.exited;
      expect(caches(cache).filter((f) => f.endsWith('.tddc')), `killed by ${signal}, it kept no cache`).toEqual([]);
    }
    // Each replay that starts removes the files of those killed before it: they do not pile up.
    expect(temps(cache), 'only the last killed replay\'s temporary file is left').toHaveLength(1);
    const next = replay(DEMO, cache);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).not.toContain('decoded by an earlier replay');
    expect(files(next.out)).toStrictEqual(none);
    expect(caches(cache), 'the dead writers\' files are gone, the new cache kept').toEqual([expect.stringMatching(/^[0-9a-f]{40}\.tddc$/)]);
    expect(replay(DEMO, cache).stdout).toContain('decoded by an earlier replay');
  });

  it('is read from a folder the replay cannot change (a read-only disk), and one it cannot use is said once', async () => {
    const cache = tmpDir('tapedeck-cache-');
    const written = replay(DEMO, cache);
    expect(written.code, written.stderr).toBe(0);
    const [name] = caches(cache);
    // As on a read-only file system: whatever would change the folder or a file in it fails with EROFS.
    const erofs = (what: string) => (p: unknown): never => {
      throw Object.assign(new Error(`EROFS: read-only file system, ${what} '${String(p)}'`), { code: 'EROFS' });
    };
    const under = (p: unknown): boolean => typeof p === 'string' && p.startsWith(cache);
    const real = { openSync: fs.openSync, rmSync: fs.rmSync, utimesSync: fs.utimesSync };
    vi.spyOn(fs, 'futimesSync').mockImplementation(erofs('futime'));
    vi.spyOn(fs, 'utimesSync').mockImplementation((p, a, m) => (under(p) ? erofs('utime')(p) : real.utimesSync(p, a, m)));
    vi.spyOn(fs, 'rmSync').mockImplementation((p, o) => (under(p) ? erofs('unlink')(p) : real.rmSync(p, o)));
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, flags: fs.OpenMode = 'r', mode?: fs.Mode) => (under(p) && flags !== 'r' ? erofs('open')(p) : real.openSync(p, flags, mode))) as typeof fs.openSync);
    const plan = await planArchive(DEMO);
    const heard: string[] = [];
    const found = openDecodeCache(plan, {}, (l) => heard.push(l), { dir: cache, capBytes: 2 ** 30 });
    expect(heard).toEqual([]);
    expect(found?.state, 'a whole cache is read where it cannot be touched').toBe('found');
    found!.abandon();
    // Damaged, it cannot be used, nor removed, nor written anew: one line, and the archive decoded.
    const file = path.join(cache, name!);
    const bytes = real.openSync(file, 'r+');
    fs.writeSync(bytes, Buffer.from('damage'), 0, 6, 1000);
    fs.closeSync(bytes);
    const damaged = openDecodeCache(plan, {}, (l) => heard.push(l), { dir: cache, capBytes: 2 ** 30 });
    expect(damaged).toBeUndefined();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatch(/^the decoded-event cache \S+ cannot be used \(its SHA-256 differs from the one it was written with\) nor removed \(EROFS: .*\): decoding the archive without a cache$/);
  });

  it('is not used after a file without a digest is rewritten in place at the same size and modification time', () => {
    const root = path.join(dir, 'plain');
    const binance = undigestedArchive(root).find((f) => f.includes('venue=binance'))!;
    // Whole seconds, so that setting them again gives back exactly the same stat (as `touch -r` does).
    const when = 1_723_161_600;
    fs.utimesSync(binance, when, when);
    const cache = tmpDir('tapedeck-cache-');
    const first = replay(root, cache);
    expect(first.code, first.stderr).toBe(0);
    expect(caches(cache)).toHaveLength(1);
    // Every Binance trade's price given another first digit: the same length, the same file size.
    const bytes = fs.readFileSync(binance);
    const size = bytes.length;
    let changed = 0;
    for (let at = bytes.indexOf('"p":"'); at >= 0; at = bytes.indexOf('"p":"', at + 1)) {
      const d = at + 5;
      bytes[d] = bytes[d] === 0x31 ? 0x32 : 0x31;
      changed++;
    }
    expect(changed).toBeGreaterThan(100);
    fs.writeFileSync(binance, bytes);
    fs.utimesSync(binance, when, when);
    expect(fs.statSync(binance).size).toBe(size);
    const none = replay(root, 'off');
    expect(none.code, none.stderr).toBe(0);
    expect(files(none.out)['candles.parquet'], 'the rewrite changes the candles').not.toEqual(files(first.out)['candles.parquet']);
    const again = replay(root, cache);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout, 'the old cache names the old prices').not.toContain('decoded by an earlier replay');
    expect(files(again.out)).toStrictEqual(files(none.out));
    expect(replay(root, cache).stdout, 'the new contents have a cache of their own').toContain('decoded by an earlier replay');
  });
});
