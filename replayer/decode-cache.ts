/**
 * The decoded-event cache (issue 9): a replay's events and what the exchange adapters made of
 * them, kept after the replay so that the next replay of the same archive folds them without
 * reading the archive or decoding. Decoding is about three quarters of a replay's fold
 * (test/bench/fold-bound.ts), and a user replays one archive many times (backtests, sweeps,
 * other windows, notebooks).
 *
 * What is kept (src/market/decoded-columns.ts): every LogEvent of the replay in its order,
 * without the exchanges' text (frames, REST bodies: only the adapters read them), and for
 * each one the engine handed an adapter, the market events it returned; then each adapter's
 * counts at the end. The engine hands the adapters the same events in the same order
 * whenever it folds the same events in the same order, so the cache is keyed by what decides
 * them:
 * - the archive files' contents (each file's own page digest, tapedeck.data_sha256; the
 *   SHA-256 of its bytes for a file without one, or another tool's: archive-read's
 *   pageDigest) and the sessions and time range replayed;
 * - the adapters' code: a hash of every file under src/exchanges, src/market and src/log, of
 *   this one, of the engine and of the archive's reading (read.ts, archive-read.ts), so a
 *   changed adapter or reader never reads a cache of the old one.
 * The engine's configuration does not decide what the adapters make, so one cache serves
 * every --windows, --rsi or strategy.
 *
 * A cache is written beside a replay that found none (to a temporary name, renamed once the
 * replay ended well), checked whole (its SHA-256) before it is used, and a replay reading it
 * checks that each adapter call is for the event the cache says. Caches live in
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
import type { LogEvent } from '../src/log/event.ts';
import { DecodedPacker, DecodedUnpacker, NotPackable, type Unpacked } from '../src/market/decoded-columns.ts';
import { newCounts, type DecodeCounts, type MarketEvent } from '../src/market/events.ts';
import { fileSha256 } from '../src/storage/file-sha256.ts';
import { ARCHIVE_DECOMPRESSORS, compressorsAt } from '../src/storage/codecs.ts';
import type { ArchiveFileHead } from '../src/storage/archive-read.ts';
import type { ArchivePlan, TimeRange } from './read.ts';

/** The file's first and last eight bytes. */
const MAGIC = Buffer.from('TDDCv001');
/** LogEvents per chunk (read.ts's batches are as long): ~0.3 MB of columns before compression. */
const EVENTS_PER_CHUNK = 4096;
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
  // No room at all is no cache: nothing would be kept.
  if (mb === 0) return undefined;
  return { dir: dir.startsWith('~/') ? path.join(os.homedir(), dir.slice(2)) : dir, capBytes: mb * 1024 * 1024 };
}

let code: string | null | undefined;

/** The adapters' code, hashed (undefined where the sources cannot be read: then no cache). */
function codeHash(): string | undefined {
  if (code !== undefined) return code ?? undefined;
  try {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    // This file too (what it writes around the columns), and the engine's (which events it hands the adapters).
    // And the archive's reading (the events' order and fields).
    const hash = createHash('sha256').update(fs.readFileSync(fileURLToPath(import.meta.url))).update(fs.readFileSync(path.join(src, 'engine', 'engine.ts')))
      .update(fs.readFileSync(fileURLToPath(new URL('./read.ts', import.meta.url)))).update(fs.readFileSync(path.join(src, 'storage', 'archive-read.ts')));
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

/**
 * What a file holds: its page digest, or for a file without one, the SHA-256 of its bytes.
 * Not its size and modification time: a file rewritten in place at the same size, its time
 * set back (`touch -r`, `rsync -a`, a clock of seconds), would have read the old cache.
 */
function fileIdentity(head: ArchiveFileHead): string {
  return head.digest !== undefined ? `pages:${head.digest}` : `bytes:${fileSha256(head.file)}`;
}

/**
 * What decides a replay of `plan` over `range` (`what`, kept in the cache and compared when
 * it is found: a cache under another's name is not used) and the cache's name, its hash.
 */
export function decodeCacheKey(plan: ArchivePlan, range: TimeRange): { name: string; what: string } | undefined {
  const c = codeHash();
  if (c === undefined) return undefined;
  const files = [...plan.sessions.values()].flat().map(fileIdentity).sort();
  const what = JSON.stringify({ code: c, sessions: [...plan.sessions.keys()].sort(), files, start: range.startNs?.toString() ?? null, end: range.endNs?.toString() ?? null });
  return { name: createHash('sha256').update(what).digest('hex').slice(0, 40), what };
}

/** A replay's side of the cache: where its events come from, the decoders the engine is to use, and what to do at the end. */
export interface DecodeCache {
  /** `found`: the replay reads the cache; `writing`: it writes one. */
  readonly state: 'found' | 'writing';
  readonly file: string;
  /** A cache found: the replay's events, read from it instead of the archive. */
  readonly batches: AsyncIterable<LogEvent[]> | undefined;
  /** A cache being written: sees each event of the replay, in order, before the engine folds it. */
  readonly tap: ((ev: LogEvent) => void) | undefined;
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
  const file = path.join(settings.dir, `${key.name}.tddc`);
  sweep(settings.dir);
  try {
    return found(file, key.what);
  } catch (err) {
    // None yet (or another replay's eviction took it just now, or the folder is under a
    // file): this replay writes one, or says why it cannot.
    const none = ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');
    if (!none) {
      const kept = removal(file);
      if (kept !== undefined) {
        // The folder cannot be changed (a read-only disk): no cache can be written in it either.
        warn(`the decoded-event cache ${file} cannot be used (${(err as Error).message}) nor removed (${kept}): decoding the archive without a cache`);
        return undefined;
      }
      warn(`the decoded-event cache ${file} cannot be used (${(err as Error).message}): removed, decoding the archive again`);
    }
  }
  try {
    fs.mkdirSync(settings.dir, { recursive: true });
    return writing(file, key.what, settings, warn);
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
  for (let got = 0; got < length;) {
    const n = fs.readSync(fd, out, got, length - got, at + got);
    if (n === 0) throw new Error('the file ends early');
    got += n;
  }
  return out;
}

/** A cache to read: checked whole (its digest), its counts read, its chunks read as the engine asks. */
function found(file: string, what: string): DecodeCache {
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
    // The trailer: END, what decides the replay and the counts (JSON), its length, just before the digest.
    const tailLength = readAt(fd, bodyEnd - 4, 4).readUInt32LE(0);
    const trailerAt = bodyEnd - 4 - tailLength - 4;
    if (trailerAt < MAGIC.length || readAt(fd, trailerAt, 4).readUInt32LE(0) !== END) throw new Error('its trailer is not where it should be');
    const trailer = JSON.parse(readAt(fd, trailerAt + 4, tailLength).toString('utf8')) as { what: string; counts: Record<string, DecodeCounts> };
    if (trailer.what !== what) throw new Error('it was written for another replay: other archive files, sessions, range or code');
    const counts = trailer.counts;
    // Its time says when it was last used (eviction removes the least recently used); on a
    // read-only disk it cannot be set, and nothing is evicted there either.
    const now = new Date();
    ignoring(() => fs.futimesSync(fd, now, now));
    return reading(file, fd, trailerAt, counts);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function reading(file: string, fd: number, end: number, counts: Record<string, DecodeCounts>): DecodeCache {
  const unpacker = new DecodedUnpacker();
  const mine = new Map<string, DecodeCounts>();
  /** What the adapters made of the events given out, those the engine has not asked for yet, in order. */
  const queue: { ev: LogEvent; out: MarketEvent[] }[] = [];
  let head = 0;
  let at = MAGIC.length;
  let closed = false;
  const close = (): void => {
    if (!closed) fs.closeSync(fd);
    closed = true;
  };
  const mismatch = (why: string): never => {
    close();
    const kept = removal(file);
    const then = kept === undefined ? 'it was removed: run the replay again' : `it could not be removed (${kept}): remove it, or run the replay with TAPEDECK_DECODE_CACHE=off`;
    throw new TapedeckError(`the decoded-event cache ${file} does not match this replay (${why}); ${then}`, 1);
  };
  const decode = (ev: LogEvent): MarketEvent[] => {
    const next = queue[head];
    if (next === undefined || next.ev !== ev) {
      return mismatch(`the engine asked an adapter about ${ev.session}:${ev.ingestSeq} at ${ev.recvNs} ns, the cache has ${next === undefined ? 'nothing more' : `${next.ev.session}:${next.ev.ingestSeq}`} next`);
    }
    queue[head++] = undefined as never;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    return next.out;
  };
  async function* batches(): AsyncGenerator<LogEvent[]> {
    while (at < end) {
      const h = readAt(fd, at, 8);
      const raw = h.readUInt32LE(0);
      const z = h.readUInt32LE(4);
      let chunk: Unpacked;
      try {
        chunk = unpacker.unpack(decompress(readAt(fd, at + 8, z), raw));
      } catch (err) {
        return mismatch((err as Error).message);
      }
      at += 8 + z;
      chunk.decoded.forEach((out, i) => {
        if (out !== undefined) queue.push({ ev: chunk.events[i]!, out });
      });
      yield chunk.events;
    }
  }
  return {
    state: 'found',
    file,
    batches: batches(),
    tap: undefined,
    decoders(exchange) {
      if (makeDecoder(exchange) === undefined) return undefined;
      const c = newCounts();
      mine.set(exchange, c);
      return { decode, counts: c };
    },
    finish() {
      if (at < end || head < queue.length) mismatch('the replay ended before the cache did');
      const names = [...mine.keys()].sort();
      if (JSON.stringify(names) !== JSON.stringify(Object.keys(counts).sort())) mismatch(`exchanges ${names.join(',')} against ${Object.keys(counts).sort().join(',')}`);
      for (const [name, c] of mine) {
        const kept = counts[name]!;
        Object.assign(c.recognised, kept.recognised);
        Object.assign(c.unknown, kept.unknown);
        c.duplicates = kept.duplicates;
        c.idRuns = kept.idRuns;
        c.errors = kept.errors;
      }
      close();
      return 'found';
    },
    abandon: close,
  };
}

/**
 * A cache to write while the replay reads and decodes: it sees every event (`tap`), and its
 * decoders are the registry's, each answer kept. Whatever befalls the cache's file (a full
 * disk, its folder removed), the replay goes on: the cache is given up, its temporary file
 * removed at once (on a full disk its room is the tables'), and `warn` hears it once.
 */
function writing(file: string, what: string, settings: DecodeCacheSettings, warn: (line: string) => void): DecodeCache {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(tmp, 'wx');
  const hash: Hash = createHash('sha256');
  const packer = new DecodedPacker();
  const decoders = new Map<string, Decoder>();
  let open = true;
  /** Why no cache is to be kept (then nothing more is written). */
  let failed: string | undefined;
  const writeAll = (b: Uint8Array): void => {
    // A write near a full disk may take only part of the buffer without an error.
    for (let at = 0; at < b.length;) at += fs.writeSync(fd, b, at, b.length - at);
  };
  let written = 0;
  const write = (b: Uint8Array): void => {
    // A cache past the room allowed would be evicted as soon as it is sealed: stop writing it.
    written += b.length;
    if (written > settings.capBytes) throw new TooLarge();
    hash.update(b);
    writeAll(b);
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
    if (open) ignoring(() => fs.closeSync(fd));
    open = false;
    ignoring(() => fs.rmSync(tmp, { force: true }));
  };
  const keeping = (f: () => void): void => {
    if (failed !== undefined) return;
    try {
      f();
    } catch (err) {
      failed = (err as Error).message;
      if (err instanceof NotPackable) return;
      // Too large for the room allowed, or the file's fault, not the events': the disk is full, the folder gone, …
      drop();
      warn(err instanceof TooLarge
        ? `this replay's decoded-event cache would take more than TAPEDECK_DECODE_CACHE_MB (${settings.capBytes / 1048576} MB): it is not kept (raise TAPEDECK_DECODE_CACHE_MB to keep caches this large)`
        : `the decoded-event cache could not be written in ${settings.dir} (${failed}): the replay goes on without it`);
    }
  };
  keeping(() => write(MAGIC));
  return {
    state: 'writing',
    file,
    batches: undefined,
    tap(ev) {
      keeping(() => {
        if (packer.size >= EVENTS_PER_CHUNK) flush();
        packer.event(ev);
      });
    },
    decoders(exchange) {
      const d = makeDecoder(exchange);
      if (d === undefined) return undefined;
      decoders.set(exchange, d);
      return {
        counts: d.counts,
        decode(ev) {
          const out = d.decode(ev);
          keeping(() => packer.decoded(ev, out));
          return out;
        },
      };
    },
    finish() {
      keeping(() => {
        if (packer.size > 0) flush();
        const counts: Record<string, DecodeCounts> = {};
        for (const [name, d] of decoders) counts[name] = d.counts;
        const tail = Buffer.from(JSON.stringify({ what, counts }), 'utf8');
        write(u32s(END));
        write(tail);
        write(u32s(tail.length));
        writeAll(hash.digest());
        writeAll(MAGIC);
        fs.closeSync(fd);
        open = false;
        fs.renameSync(tmp, file);
      });
      if (failed !== undefined) {
        drop();
        return undefined;
      }
      evict(settings);
      return fs.existsSync(file) ? 'written' : undefined;
    },
    abandon: drop,
  };
}

/** A cache larger than TAPEDECK_DECODE_CACHE_MB allows. */
class TooLarge extends Error {
  constructor() {
    super('larger than TAPEDECK_DECODE_CACHE_MB');
  }
}

/** Removes a cache file: undefined when it is gone, or why it is not. */
function removal(file: string): string | undefined {
  try {
    fs.rmSync(file, { force: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Runs `f`, ignoring its failure (tidying up that may find nothing, or a folder it cannot change). */
function ignoring(f: () => void): void {
  try {
    f();
  } catch {
    // nothing to do about it
  }
}

/**
 * Removes the temporary files no replay is writing any more: those of a process that is not
 * running (a replay killed, by Ctrl-C or `kill -9`, while it wrote; the process id is in the
 * name), and any a day old (a process of that id may be another program). A replay that
 * finds its own removed (a folder shared across machines or containers, whose ids are not
 * ours) gives its cache up in a warning.
 */
function sweep(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // no folder yet
  }
  for (const name of names) {
    const m = /^[0-9a-f]{40}\.tddc\.(\d+)\.[0-9a-z]*\.tmp$/.exec(name);
    if (m === null) continue;
    const file = path.join(dir, name);
    ignoring(() => {
      if (!running(Number(m[1])) || Date.now() - fs.statSync(file).mtimeMs > 86_400_000) fs.rmSync(file, { force: true });
    });
  }
}

/** Whether a process of this id runs here (one of another user's does: EPERM). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the least recently used caches beyond the room allowed (the one just written last).
 * Dead writers' temporary files went when this replay opened the folder (openDecodeCache).
 */
function evict(settings: DecodeCacheSettings): void {
  let names: string[];
  try {
    names = fs.readdirSync(settings.dir);
  } catch {
    return; // the folder is gone meanwhile: nothing to evict
  }
  const entries: { file: string; size: number; used: number }[] = [];
  for (const name of names) {
    const file = path.join(settings.dir, name);
    try {
      const st = fs.statSync(file);
      if (name.endsWith('.tddc')) entries.push({ file, size: st.size, used: st.mtimeMs });
    } catch {
      // gone meanwhile (another replay's eviction)
    }
  }
  let total = entries.reduce((s, e) => s + e.size, 0);
  for (const e of entries.sort((a, b) => a.used - b.used)) {
    if (total <= settings.capBytes) break;
    ignoring(() => fs.rmSync(e.file, { force: true }));
    total -= e.size;
  }
}
