/**
 * The decoded-event cache (issue 9): what the exchange adapters made of an archive's frames,
 * kept after a replay so that the next replay of the same archive folds without decoding.
 * Decoding is about three quarters of a replay's fold (test/bench/fold-bound.ts), and a user
 * replays one archive many times (backtests, sweeps, other windows, notebooks).
 *
 * What is kept is the sequence of decode calls the engine made, in order: for each, the
 * LogEvent's receive time and ingest sequence and the market events the adapter returned
 * (src/market/decoded-columns.ts), then each adapter's counts at the end. The engine makes
 * the same calls in the same order whenever it reads the same events in the same order, so
 * the cache is keyed by what decides them:
 * - the archive files' contents (each file's own page digest, tapedeck.data_sha256; size and
 *   modification time for a file without one) and the sessions and time range replayed;
 * - the adapters' code: a hash of every file under src/exchanges, src/market and src/log, so
 *   a changed adapter never reads a cache of the old one.
 * The engine's configuration does not decide what the adapters make, so one cache serves
 * every --windows, --rsi or strategy.
 *
 * A cache is written beside a replay that found none (to a temporary name, renamed once the
 * replay ended well), checked whole (its SHA-256) before it is used, and the replay checks
 * each call's time and sequence against the event in hand. Caches live in
 * `$XDG_CACHE_HOME/tapedeck/decoded` (`~/.cache/…`) or TAPEDECK_DECODE_CACHE (a folder, or
 * `off`), the least recently used removed beyond TAPEDECK_DECODE_CACHE_MB (default 4096).
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TapedeckError } from '../src/errors.ts';
import { makeDecoder, type Decoder } from '../src/exchanges/registry.ts';
import { DecodedPacker, DecodedUnpacker, NotAligned, NotPackable } from '../src/market/decoded-columns.ts';
import { newCounts, type DecodeCounts } from '../src/market/events.ts';
import { ARCHIVE_DECOMPRESSORS, compressorsAt } from '../src/storage/codecs.ts';
import type { ArchivePlan, TimeRange } from './read.ts';

/** The file's first and last eight bytes. */
const MAGIC = Buffer.from('TDDCv001');
/** Decode calls per chunk: ~0.5 MB of columns before compression. */
const CALLS_PER_CHUNK = 8192;
/** A chunk's head (its length before and after compression); the trailer's has a first word of END. */
const END = 0xffffffff;
/** ZSTD level of the chunks: the fastest (the cache is written during a replay, on its thread). */
const compress = compressorsAt({ zstd: 1 }).ZSTD!;
const decompress = ARCHIVE_DECOMPRESSORS.ZSTD!;

export interface DecodeCacheSettings {
  readonly dir: string;
  readonly capBytes: number;
}

/** Where caches live and how much room they may take, from the environment; undefined: off. */
export function decodeCacheSettings(env: NodeJS.ProcessEnv = process.env): DecodeCacheSettings | undefined {
  const v = env.TAPEDECK_DECODE_CACHE ?? '';
  if (v === 'off' || v === '0') return undefined;
  const dir = v === '' || v === 'on' || v === '1' ? path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tapedeck', 'decoded') : v;
  const mb = env.TAPEDECK_DECODE_CACHE_MB === undefined || env.TAPEDECK_DECODE_CACHE_MB === '' ? 4096 : Number(env.TAPEDECK_DECODE_CACHE_MB);
  if (!Number.isFinite(mb) || mb < 0) throw new TapedeckError(`TAPEDECK_DECODE_CACHE_MB must be a number of megabytes (0 or more), not ${JSON.stringify(env.TAPEDECK_DECODE_CACHE_MB)}`);
  return { dir, capBytes: mb * 1024 * 1024 };
}

let code: string | null | undefined;

/** The adapters' code, hashed (undefined where the sources cannot be read: then no cache). */
function codeHash(): string | undefined {
  if (code !== undefined) return code ?? undefined;
  try {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const hash = createHash('sha256').update(MAGIC);
    for (const dir of ['exchanges', 'market', 'log']) {
      const files = (fs.readdirSync(path.join(src, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
      for (const f of files) hash.update(`${dir}/${f}\0`).update(fs.readFileSync(path.join(src, dir, f))).update('\0');
    }
    code = hash.digest('hex');
  } catch {
    code = null;
  }
  return code ?? undefined;
}

/** The cache's name for a replay of `plan` over `range`. */
export function decodeCacheKey(plan: ArchivePlan, range: TimeRange): string | undefined {
  const c = codeHash();
  if (c === undefined) return undefined;
  const files = [...plan.sessions.values()].flat().map((h) => h.identity).sort();
  const what = { code: c, sessions: [...plan.sessions.keys()].sort(), files, start: range.startNs?.toString() ?? null, end: range.endNs?.toString() ?? null };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 40);
}

/** A replay's side of the cache: the decoders the engine is to use, and what to do at the end. */
export interface DecodeCache {
  /** `found`: the replay reads the cache; `writing`: it writes one. */
  readonly state: 'found' | 'writing';
  readonly file: string;
  /** The engine's decoder of an exchange (undefined: tapedeck has none for it). */
  decoders(exchange: string): Decoder | undefined;
  /** The replay ended well: the adapters' counts restored (`found`) or the cache sealed (`written`; undefined: it could not be). */
  finish(): 'found' | 'written' | undefined;
  /** The replay failed: nothing is kept. */
  abandon(): void;
}

/**
 * The cache for this replay: the one found, or one to write; undefined when caching is off
 * or cannot be done here (then the replay decodes as it always did). `warn` hears why a
 * cache found was not used, or why none can be written.
 */
export function openDecodeCache(plan: ArchivePlan, range: TimeRange, warn: (line: string) => void, settings = decodeCacheSettings()): DecodeCache | undefined {
  if (settings === undefined) return undefined;
  const key = decodeCacheKey(plan, range);
  if (key === undefined) return undefined;
  const file = path.join(settings.dir, `${key}.tddc`);
  if (fs.existsSync(file)) {
    try {
      return found(file);
    } catch (err) {
      warn(`the decoded-event cache ${file} is not whole (${(err as Error).message}): removed, decoding the archive again`);
      fs.rmSync(file, { force: true });
    }
  }
  try {
    fs.mkdirSync(settings.dir, { recursive: true });
    return writing(file, settings);
  } catch (err) {
    warn(`no decoded-event cache: cannot write in ${settings.dir} (${(err as Error).message}); set TAPEDECK_DECODE_CACHE to a folder that can, or to off`);
    return undefined;
  }
}

/** The file's bytes in order, in blocks (a cache can be larger than a reader should hold). */
function* blocks(fd: number, from: number, to: number): Generator<Buffer> {
  const block = Buffer.allocUnsafe(4 << 20);
  for (let at = from; at < to;) {
    const n = fs.readSync(fd, block, 0, Math.min(block.length, to - at), at);
    if (n === 0) throw new Error('the file ends early');
    yield block.subarray(0, n);
    at += n;
  }
}

function readAt(fd: number, at: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  for (const b of blocks(fd, at, at + length)) got += b.copy(out, got);
  return out;
}

/** A cache to read: checked whole (its digest), its counts read, its chunks read as the engine asks. */
function found(file: string): DecodeCache {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 2 * MAGIC.length + 32 || !readAt(fd, 0, MAGIC.length).equals(MAGIC) || !readAt(fd, size - MAGIC.length, MAGIC.length).equals(MAGIC)) {
      throw new Error('not a decoded-event cache of this tapedeck');
    }
    const bodyEnd = size - MAGIC.length - 32;
    const hash = createHash('sha256');
    for (const b of blocks(fd, 0, bodyEnd)) hash.update(b);
    if (!hash.digest().equals(readAt(fd, bodyEnd, 32))) throw new Error('its SHA-256 differs from the one it was written with');
    // The trailer: END, its length, the counts (JSON), just before the digest.
    const tailLength = readAt(fd, bodyEnd - 4, 4).readUInt32LE(0);
    const trailerAt = bodyEnd - 4 - tailLength - 4;
    if (trailerAt < MAGIC.length || readAt(fd, trailerAt, 4).readUInt32LE(0) !== END) throw new Error('its trailer is not where it should be');
    const counts = JSON.parse(readAt(fd, trailerAt + 4, tailLength).toString('utf8')) as Record<string, DecodeCounts>;
    const now = new Date();
    fs.utimesSync(file, now, now);
    return reading(file, fd, trailerAt, counts);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function reading(file: string, fd: number, end: number, counts: Record<string, DecodeCounts>): DecodeCache {
  const unpacker = new DecodedUnpacker();
  const mine = new Map<string, DecodeCounts>();
  let at = MAGIC.length;
  let closed = false;
  const close = (): void => {
    if (!closed) fs.closeSync(fd);
    closed = true;
  };
  const mismatch = (why: string): never => {
    close();
    fs.rmSync(file, { force: true });
    throw new TapedeckError(`the decoded-event cache ${file} does not match this replay (${why}); it was removed: run the replay again`, 1);
  };
  const nextChunk = (): boolean => {
    if (at >= end) return false;
    const head = readAt(fd, at, 8);
    const raw = head.readUInt32LE(0);
    const z = head.readUInt32LE(4);
    unpacker.load(decompress(readAt(fd, at + 8, z), raw));
    at += 8 + z;
    return true;
  };
  const decode = (ev: Parameters<Decoder['decode']>[0]) => {
    try {
      while (unpacker.left === 0) if (!nextChunk()) throw new NotAligned('more decode calls than were kept');
      return unpacker.next(ev);
    } catch (err) {
      if (err instanceof NotAligned) return mismatch(err.message);
      throw err;
    }
  };
  return {
    state: 'found',
    file,
    decoders(exchange) {
      if (makeDecoder(exchange) === undefined) return undefined;
      const c = newCounts();
      mine.set(exchange, c);
      return { decode, counts: c };
    },
    finish() {
      if (unpacker.left > 0 || at < end) mismatch('fewer decode calls than were kept');
      const names = [...mine.keys()].sort();
      if (JSON.stringify(names) !== JSON.stringify(Object.keys(counts).sort())) mismatch(`exchanges ${names.join(',')} against ${Object.keys(counts).sort().join(',')}`);
      for (const [name, c] of mine) {
        const kept = counts[name]!;
        Object.assign(c.recognised, kept.recognised);
        Object.assign(c.unknown, kept.unknown);
        c.duplicates = kept.duplicates;
        c.errors = kept.errors;
      }
      close();
      return 'found';
    },
    abandon: close,
  };
}

/** A cache to write while the replay decodes: its decoders are the registry's, each call kept. */
function writing(file: string, settings: DecodeCacheSettings): DecodeCache {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(tmp, 'wx');
  const hash: Hash = createHash('sha256');
  const packer = new DecodedPacker();
  const decoders = new Map<string, Decoder>();
  let open = true;
  let failed: string | undefined;
  const write = (b: Uint8Array): void => {
    hash.update(b);
    fs.writeSync(fd, b);
  };
  const u32s = (...v: number[]): Buffer => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeUInt32LE(x, 4 * i));
    return b;
  };
  const flush = (): void => {
    const raw = packer.pack();
    const z = compress(raw);
    write(u32s(raw.length, z.length));
    write(z);
  };
  const drop = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
    fs.rmSync(tmp, { force: true });
  };
  write(MAGIC);
  return {
    state: 'writing',
    file,
    decoders(exchange) {
      const d = makeDecoder(exchange);
      if (d === undefined) return undefined;
      decoders.set(exchange, d);
      return {
        counts: d.counts,
        decode(ev) {
          const out = d.decode(ev);
          if (failed === undefined) {
            try {
              packer.add(ev, out);
              if (packer.calls >= CALLS_PER_CHUNK) flush();
            } catch (err) {
              if (!(err instanceof NotPackable)) throw err;
              failed = err.message;
            }
          }
          return out;
        },
      };
    },
    finish() {
      if (failed !== undefined) {
        drop();
        return undefined;
      }
      if (packer.calls > 0) flush();
      const counts: Record<string, DecodeCounts> = {};
      for (const [name, d] of decoders) counts[name] = d.counts;
      const tail = Buffer.from(JSON.stringify(counts), 'utf8');
      write(u32s(END));
      write(tail);
      write(u32s(tail.length));
      fs.writeSync(fd, hash.digest());
      fs.writeSync(fd, MAGIC);
      fs.closeSync(fd);
      open = false;
      fs.renameSync(tmp, file);
      evict(settings);
      return fs.existsSync(file) ? 'written' : undefined;
    },
    abandon: drop,
  };
}

/** Removes the least recently used caches beyond the room allowed (the one just written last), and temporary files a day old. */
function evict(settings: DecodeCacheSettings): void {
  const entries: { file: string; size: number; used: number }[] = [];
  for (const name of fs.readdirSync(settings.dir)) {
    const file = path.join(settings.dir, name);
    try {
      const st = fs.statSync(file);
      if (name.endsWith('.tmp')) {
        if (Date.now() - st.mtimeMs > 86_400_000) fs.rmSync(file, { force: true });
      } else if (name.endsWith('.tddc')) entries.push({ file, size: st.size, used: st.mtimeMs });
    } catch {
      // gone meanwhile (another replay's eviction)
    }
  }
  let total = entries.reduce((s, e) => s + e.size, 0);
  for (const e of entries.sort((a, b) => a.used - b.used)) {
    if (total <= settings.capBytes) break;
    fs.rmSync(e.file, { force: true });
    total -= e.size;
  }
}
