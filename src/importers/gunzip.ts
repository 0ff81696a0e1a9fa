/**
 * A gzip file's contents, member after member (RFC 1952), as gunzip gives them, and how many
 * bytes after the last member are not gzip. zlib's Gunzip stream takes any byte after a
 * member other than 0 for the start of another member, so trailing garbage (a transfer's
 * tail, bytes a tool appended after the file was closed) failed it, and the output of the
 * input chunk holding the garbage was lost with the error: for a file under a MiB, all of it
 * ("cannot read"), for a larger one up to ~8 MiB of lines called "cut short". gzip(1)
 * decompresses every member and says "trailing garbage ignored"; so does this.
 *
 * Each member's header is read here; its deflate data is inflated by zlib's InflateRaw (the
 * engine Gunzip uses), which stops at the data's end and says how many bytes it took (its
 * `bytesWritten`); the trailer's CRC-32 and length are checked as gunzip checks them, with
 * zlib's own messages. A file cut short keeps what was inflated before the cut, then fails
 * with zlib's "unexpected end of file", as Gunzip did.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const RESERVED = 0xe0;
/** The inflater's output buffer: what it yields at a time. */
const OUT_CHUNK = 1 << 20;
/** A member that inflates to no more than this, within the input read, is inflated at once. */
const WHOLE_OUT = 1 << 20;
const EMPTY = Buffer.alloc(0);

/** Resolves on the first of `events` that `stream` emits, or at once when it is destroyed (it emits nothing more). */
function settled(stream: zlib.InflateRaw, events: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) return resolve();
    const go = (): void => {
      for (const e of events) stream.off(e, go);
      resolve();
    };
    for (const e of events) stream.on(e, go);
  });
}

/**
 * The decompressed bytes of `file`, in order. Once the last member is read, `onTrailing`
 * hears how many bytes follow it that are not a member (0: none, or zero bytes only, the
 * padding some writers add). `readSize`: bytes read from the file at a time. Throws zlib's
 * message when the file is not gzip or is damaged; what came before the damage has been
 * yielded by then.
 */
export async function* gunzipFile(file: string, onTrailing: (bytes: number) => void, readSize = 1 << 20): AsyncGenerator<Buffer> {
  const reader = fs.createReadStream(file, { highWaterMark: readSize });
  const input = reader[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  /** Input read and not yet used. */
  let buf: Buffer = EMPTY;
  const more = async (): Promise<boolean> => {
    const r = await input.next();
    if (r.done) return false;
    buf = buf.length === 0 ? r.value : Buffer.concat([buf, r.value]);
    return true;
  };
  const have = async (n: number): Promise<boolean> => {
    while (buf.length < n) if (!(await more())) return false;
    return true;
  };
  const eof = (): Error => new Error('unexpected end of file');
  let inflater: zlib.InflateRaw | undefined;
  try {
    for (let member = 0; ; member++) {
      if (member > 0) {
        if (buf.length === 0 && !(await more())) return onTrailing(0);
        if (!(await have(2)) || buf[0] !== 0x1f || buf[1] !== 0x8b) return onTrailing(await trailing(buf, input));
      }
      await header({ have, current: () => buf, drop: (n) => void (buf = buf.subarray(n)) });
      const whole = inflatedWhole(buf);
      if (whole !== undefined) {
        if (whole.out.length > 0) yield whole.out;
        buf = buf.subarray(whole.taken);
        if (!(await have(8))) throw eof();
        checkTrailer(buf, zlib.crc32(whole.out), whole.out.length);
        buf = buf.subarray(8);
        continue;
      }
      const inf = (inflater = zlib.createInflateRaw({ chunkSize: OUT_CHUNK }));
      // Its errors reach the reading loop below; a write after it is done is nobody's concern.
      inf.on('error', () => undefined);
      /** Input given to the inflater that it may not have taken yet, each piece with where it starts in the member's data. */
      const given: { at: number; bytes: Buffer }[] = [];
      let fed = 0;
      /** The member's data has ended or is damaged: give no more. */
      let stop = false;
      // The file's bytes go to the inflater while what it inflates is read below; it takes more
      // only as that is read (a stream's back-pressure), so highly compressed input (a run of
      // one byte inflates ~1000-fold) is never held inflated whole.
      const feeding = (async (): Promise<void> => {
        for (;;) {
          // Give no more once the data has ended (the inflater left some of what it was given:
          // it takes no byte past the end, and calls each later write back at once, read or not)
          // or was found damaged (zlib destroyed the inflater), or the reader is done.
          if (stop || inf.destroyed || (inf.writableLength === 0 && inf.bytesWritten < fed)) return;
          if (buf.length === 0) {
            if (await more()) continue;
            // The file ends inside the member's data: the inflater says so ("unexpected end of file").
            inf.end();
            return;
          }
          while (given.length > 0 && given[0]!.at + given[0]!.bytes.length <= inf.bytesWritten) given.shift();
          const bytes = buf;
          buf = EMPTY;
          given.push({ at: fed, bytes });
          fed += bytes.length;
          if (!inf.write(bytes)) await settled(inf, ['drain', 'end', 'close', 'error']);
        }
      })().catch((err: Error) => {
        // The file could not be read on (an I/O error): the reading loop below says it.
        inf.destroy(err);
      });
      let crc = 0;
      let length = 0;
      try {
        // Ends where the member's data ends (the inflater takes no byte past it), or throws zlib's word for damage.
        for await (const b of inf as AsyncIterable<Buffer>) {
          crc = zlib.crc32(b, crc);
          length += b.length;
          yield b;
        }
      } finally {
        // Done with the inflater whichever way the loop left (its end, damage, or the reader stopping early):
        // destroyed, it wakes a feeding that waits for room, and takes nothing more.
        stop = true;
        inf.destroy();
        await feeding;
      }
      // What the inflater did not take is the trailer's and after.
      const taken = inf.bytesWritten;
      buf = Buffer.concat([...given.filter((g) => g.at + g.bytes.length > taken).map((g) => g.bytes.subarray(Math.max(0, taken - g.at))), buf]);
      inflater = undefined;
      if (!(await have(8))) throw eof();
      checkTrailer(buf, crc, length);
      buf = buf.subarray(8);
    }
  } finally {
    inflater?.destroy();
    reader.destroy();
  }
}

/**
 * A member's data inflated at once, when it ends within `buf` and inflates to at most
 * WHOLE_OUT bytes (the members of a file written a member at a time, by an appender: a
 * stream per member cost ~160 µs each, 1.6 s for 10,000 members that Gunzip read in 10 ms);
 * undefined otherwise, or on any doubt (damage included): then the member is streamed, which
 * yields what comes before damage and says what it is.
 */
function inflatedWhole(buf: Buffer): { out: Buffer; taken: number } | undefined {
  if (buf.length === 0) return undefined;
  try {
    const r = zlib.inflateRawSync(buf, { info: true, maxOutputLength: WHOLE_OUT }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    return { out: r.buffer, taken: r.engine.bytesWritten };
  } catch {
    return undefined;
  }
}

/** The 8-byte trailer at the start of `buf` against the member's CRC-32 and length, with zlib's words. */
function checkTrailer(buf: Buffer, crc: number, length: number): void {
  if (buf.readUInt32LE(0) !== crc >>> 0) throw new Error('incorrect data check');
  if (buf.readUInt32LE(4) !== length % 2 ** 32) throw new Error('incorrect length check');
}

/** The input not yet used, as the header reader sees it. */
interface HeaderInput {
  /** Reads on until the input not yet used holds `n` bytes; false at the file's end. */
  have(n: number): Promise<boolean>;
  /** The input not yet used. */
  current(): Buffer;
  /** Uses the first `n` bytes of it. */
  drop(n: number): void;
}

/**
 * Reads the member header at the start of the input not yet used, and uses it: what is left
 * starts with the member's deflate data. Throws zlib's message for what is not a gzip header.
 * A name or comment is used as it is read, so one that runs on for megabytes (the FNAME bit of
 * a file that is not gzip) costs its length once, not its length squared; the header's CRC
 * (FHCRC) is kept as it goes.
 */
async function header(input: HeaderInput): Promise<void> {
  const need = async (n: number): Promise<void> => {
    if (!(await input.have(n))) throw new Error('unexpected end of file');
  };
  let crc = 0;
  const take = (n: number): void => {
    crc = zlib.crc32(input.current().subarray(0, n), crc);
    input.drop(n);
  };
  await need(10);
  const buf = input.current();
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) throw new Error('incorrect header check');
  if (buf[2] !== 8) throw new Error('unknown compression method');
  const flags = buf[3]!;
  if ((flags & RESERVED) !== 0) throw new Error('unknown header flags set');
  take(10);
  if (flags & FEXTRA) {
    await need(2);
    const length = input.current().readUInt16LE(0);
    take(2);
    await need(length);
    take(length);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    // A zero-terminated name or comment.
    for (;;) {
      await need(1);
      const zero = input.current().indexOf(0);
      if (zero >= 0) {
        take(zero + 1);
        break;
      }
      take(input.current().length);
    }
  }
  if (flags & FHCRC) {
    await need(2);
    if ((crc & 0xffff) !== input.current().readUInt16LE(0)) throw new Error('header crc mismatch');
    input.drop(2);
  }
}

/** Bytes from the start of `buf` to the end of the file, or 0 when they are all zero (padding). */
async function trailing(buf: Buffer, input: AsyncIterator<Buffer>): Promise<number> {
  let bytes = buf.length;
  let zero = buf.every((b) => b === 0);
  for (let r = await input.next(); !r.done; r = await input.next()) {
    bytes += r.value.length;
    zero &&= r.value.every((b) => b === 0);
  }
  return zero ? 0 : bytes;
}
