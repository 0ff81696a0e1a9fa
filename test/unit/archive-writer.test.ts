/**
 * ArchiveWriter streams: what it writes reads back exactly (across partitions, row groups
 * and file rotation), in ZSTD, while files written before (SNAPPY) still read; temp names
 * are unique per writer; a failed or aborted write leaves no partial archive and no temp file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/log/event.ts';
import { ArchiveWriter, utf8Views } from '../../src/storage/archive.ts';
import { tempName } from '../../src/storage/parquet.ts';
import { ROOT, tmpDir, filesUnder, readArchiveEvents } from '../helpers.ts';

const T0 = 1_723_161_000_000_000_000n; // 2024-08-08T23:50:00Z: the session crosses midnight

function events(n: number): LogEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    session: 's1', ingestSeq: i, recvNs: T0 + BigInt(i) * 3_000_000_000n + 17n, exchange: ['binance', 'coinbase', ''][i % 3]!,
    conn: i % 3 === 2 ? '' : 'ws.0', kind: i % 3 === 2 ? 'tick' : 'frame', meta: i === 5 ? 'x.gz:6: bad' : '',
    payload: i % 3 === 2 ? '' : `{"stream":"btcusdt@trade","data":{"t":${9_007_199_254_740_993n + BigInt(i)},"p":"6${i}.5","note":"café ☕"}}`,
  }));
}



describe('ArchiveWriter', () => {
  it('encodes a column of strings as TextEncoder does, value by value (any UTF-16, lone surrogates included)', () => {
    const enc = new TextEncoder();
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 40 }), (strings) => {
      const views = utf8Views(strings);
      expect(views.map((v) => [...v])).toEqual(strings.map((x) => [...enc.encode(x)]));
    }), { numRuns: 500 });
    expect(utf8Views(['\ud800x', 'é', ''])).toEqual([enc.encode('\ud800x'), enc.encode('é'), new Uint8Array(0)].map((b) => Buffer.from(b)));
  });

  it('reads back exactly what it streamed, across partitions, row groups and rotated files', async () => {
    const dir = tmpDir();
    const evs = events(1_000);
    const w = new ArchiveWriter(dir, 's1', { maxRows: 120, rowGroupRows: 25 });
    for (const ev of evs) w.write(ev);
    const written = w.close();
    expect(written.length, 'rotation at 120 rows per partition').toBeGreaterThan(6);
    expect(written.some((f) => f.includes('date=2024-08-09')) && written.some((f) => f.includes('date=2024-08-08')), 'receive-time partitions on both sides of midnight').toBe(true);
    expect(await readArchiveEvents(dir)).toEqual(evs);
    expect(filesUnder(dir).filter((f) => f.endsWith('.tmp')), 'no temp file left').toEqual([]);
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(written[0]!));
    expect(meta.row_groups.length, 'row groups of 25 rows').toBeGreaterThan(1);
    expect(meta.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === 'payload')!.meta_data!.codec).toBe('ZSTD');
  });

  it('reads back any well-formed text exactly, a leading U+FEFF (byte-order mark) included', async () => {
    // hyparquet's default string decoding dropped a value's leading U+FEFF: a frame changed on reading.
    const wellFormed = fc.string({ unit: 'grapheme', maxLength: 12 });
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), wellFormed, fc.boolean(), wellFormed), { minLength: 1, maxLength: 20 }), async (texts) => {
      const dir = tmpDir();
      const evs = events(texts.length).map((e, i) => {
        const [bomPayload, payload, bomMeta, meta] = texts[i]!;
        return { ...e, payload: (bomPayload ? '\ufeff' : '') + payload, meta: (bomMeta ? '\ufeff' : '') + meta };
      });
      const w = new ArchiveWriter(dir, 's1');
      for (const ev of evs) w.write(ev);
      w.close();
      expect(await readArchiveEvents(dir)).toEqual(evs);
      fs.rmSync(dir, { recursive: true, force: true });
    }), { numRuns: 30 });
  });

  it('keeps at most one row group per open file in memory: files grow while writing', () => {
    const dir = tmpDir();
    const w = new ArchiveWriter(dir, 's1', { rowGroupRows: 10 });
    // Incompressible payloads, so the file passes the writer's 1 MB output buffer.
    const noise = (i: number): string => crypto.randomBytes(6_000).toString('base64') + i;
    for (const ev of events(1_500).filter((e) => e.exchange === 'binance')) w.write({ ...ev, payload: noise(ev.ingestSeq) });
    const tmp = filesUnder(dir).filter((f) => f.endsWith('.tmp'));
    expect(tmp.length, 'one temp file per partition (day), being written').toBe(2);
    expect(Math.max(...tmp.map((f) => fs.statSync(path.join(dir, f)).size)), 'row groups are on disk before close()').toBeGreaterThan(1_000);
    w.close();
  });

  it('still reads archive files written before ZSTD (SNAPPY, committed golden session)', async () => {
    const evs = await readArchiveEvents(path.join(ROOT, 'data/sessions/sim-7-3m'));
    expect(evs.length).toBeGreaterThan(1_000);
    expect(evs.map((e) => e.ingestSeq)).toEqual(evs.map((_, i) => i));
  });

  it('gives every writer its own temp name (pid + random suffix)', () => {
    const a = tempName('/x/venue=binance/s-000000000000.parquet');
    const b = tempName('/x/venue=binance/s-000000000000.parquet');
    expect(a, 'two writers of the same target must not share a temp file').not.toBe(b);
    expect(path.basename(a)).toMatch(new RegExp(`^\\.s-000000000000\\.parquet\\.${process.pid}\\.[0-9a-z]+\\.tmp$`));
  });

  it('two writers writing the same target concurrently both produce a valid file', async () => {
    const dir = tmpDir();
    const evs = events(90).filter((e) => e.exchange === 'binance');
    const a = new ArchiveWriter(dir, 's1', { rowGroupRows: 5 });
    const b = new ArchiveWriter(dir, 's1', { rowGroupRows: 5 });
    for (const ev of evs) {
      a.write(ev);
      b.write(ev);
    }
    a.close();
    b.close();
    expect(await readArchiveEvents(dir)).toEqual(evs);
  });

  it('abort() and a failing write leave no partial archive and no temp file', () => {
    const dir = tmpDir();
    const w = new ArchiveWriter(dir, 's1', { maxRows: 10, rowGroupRows: 4 });
    for (const ev of events(100)) w.write(ev);
    expect(filesUnder(dir).some((f) => f.endsWith('.parquet'))).toBe(true);
    w.abort();
    expect(filesUnder(dir).filter((f) => f.endsWith('.parquet') || f.endsWith('.tmp'))).toEqual([]);

    const bad = new ArchiveWriter(dir, 's1', { maxRows: 10, rowGroupRows: 4 });
    const evs = events(30).filter((e) => e.exchange === 'binance');
    expect(() => {
      for (const [i, ev] of evs.entries()) bad.write(i === 7 ? { ...ev, recvNs: 2n ** 63n + 5n } : ev);
      bad.close();
    }, 'INT64 overflow is refused by the Parquet writer').toThrow();
    expect(filesUnder(dir).filter((f) => f.endsWith('.parquet') || f.endsWith('.tmp')), 'nothing left behind').toEqual([]);
  });
});
