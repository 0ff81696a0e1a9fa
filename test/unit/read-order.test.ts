/**
 * What reading a session refuses instead of dropping events (replayer/read.ts): a file whose
 * rows are not in ingest_seq order (another tool rewrote it; its events were counted as
 * repeats), and two different events under one ingest_seq. A row archived twice is kept once.
 */
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/log/event.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { tmpDir } from '../helpers.ts';

const T0 = 1_723_161_600_000_000_000n;
const ev = (seq: number, payload = `{"n":${seq}}`): LogEvent => ({ session: 's1', ingestSeq: seq, recvNs: T0 + BigInt(seq), exchange: 'binance', conn: 'ws.0', kind: 'frame', payload, meta: '' });

async function read(files: LogEvent[][]): Promise<number[]> {
  const dir = tmpDir();
  for (const rows of files) {
    // One writer a file (the second a crash's re-archive, or another recording's).
    const w = new ArchiveWriter(dir, 's1', { maxRows: 1_000 });
    for (const e of rows) w.write(e);
    w.close();
  }
  const seqs: number[] = [];
  for await (const e of readArchive(await planArchive(dir))) seqs.push(e.ingestSeq);
  return seqs;
}

describe('reading a session', () => {
  it('keeps a row archived twice once', async () => {
    expect(await read([[ev(0), ev(1), ev(2)], [ev(2), ev(3)]])).toEqual([0, 1, 2, 3]);
  });

  it('reads another tool\'s numbers from below 0 in order', async () => {
    expect(await read([[ev(-1), ev(0), ev(1)]])).toEqual([-1, 0, 1]);
  });

  it('refuses a file whose rows are not in ingest_seq order', async () => {
    await expect(read([[ev(0), ev(2), ev(1), ev(3)]])).rejects.toThrow("session s1's files are not in ingest_seq order (event 1 after 2): not as tapedeck writes them (rewritten by another tool?); sort each file by ingest_seq");
  });

  it('refuses two different events under one ingest_seq', async () => {
    await expect(read([[ev(0), ev(1)], [ev(1, '{"other":1}'), ev(2)]])).rejects.toThrow('session s1 has two different events numbered 1 (two recordings under one session id?): replay them from separate folders');
  });
});
