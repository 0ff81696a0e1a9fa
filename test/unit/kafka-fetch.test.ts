/**
 * The Fetch connection (kafka-fetch.ts) against a fake broker on loopback that decodes the
 * request as Kafka would and answers in Fetch v4's layout: the request carries the topic,
 * partitions, offsets and limits asked for; each partition's record bytes come back as sent,
 * whatever TCP cuts the answer into; a broker that closes an idle connection costs nothing
 * (the next fetch reconnects); no answer, or no broker, fails the fetch in one line.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FetchConnection, type FetchPartition } from '../../src/storage/kafka-fetch.ts';

interface Asked {
  readonly apiKey: number;
  readonly version: number;
  readonly clientId: string;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly topic: string;
  readonly parts: FetchPartition[];
}

function decodeRequest(b: Buffer): { id: number; asked: Asked } {
  let at = 0;
  const apiKey = b.readInt16BE(at);
  const version = b.readInt16BE(at + 2);
  const id = b.readInt32BE(at + 4);
  const clientLength = b.readInt16BE(at + 8);
  const clientId = b.toString('utf8', at + 10, at + 10 + clientLength);
  at += 10 + clientLength + 4; // replica id
  const maxWaitMs = b.readInt32BE(at);
  const maxBytes = b.readInt32BE(at + 8);
  at += 4 + 4 + 4 + 1 + 4; // max wait, min bytes, max bytes, isolation, one topic
  const topicLength = b.readInt16BE(at);
  const topic = b.toString('utf8', at + 2, at + 2 + topicLength);
  at += 2 + topicLength;
  const n = b.readInt32BE(at);
  at += 4;
  const parts: FetchPartition[] = [];
  for (let i = 0; i < n; i++, at += 16) parts.push({ partition: b.readInt32BE(at), offset: Number(b.readBigInt64BE(at + 4)), maxBytes: b.readInt32BE(at + 12) });
  return { id, asked: { apiKey, version, clientId, maxWaitMs, maxBytes, topic, parts } };
}

/** A Fetch v4 response: `records` per partition of `topic` (error 0, high watermark 1000). */
function encodeResponse(id: number, topic: string, records: Map<number, Buffer>): Buffer {
  const name = Buffer.from(topic);
  const parts = [...records].map(([p, bytes]) => {
    const head = Buffer.alloc(4 + 2 + 8 + 8 + 4 + 4);
    head.writeInt32BE(p, 0);
    head.writeBigInt64BE(1000n, 6);
    head.writeBigInt64BE(1000n, 14);
    head.writeInt32BE(-1, 22); // no aborted transactions
    head.writeInt32BE(bytes.length, 26);
    return Buffer.concat([head, bytes]);
  });
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from([name.length >> 8, name.length & 255]), name, Buffer.from([0, 0, 0, parts.length]), ...parts]);
  const out = Buffer.alloc(8);
  out.writeInt32BE(4 + body.length, 0);
  out.writeInt32BE(id, 4);
  return Buffer.concat([out, body]);
}

/** A fake broker: `answer` decides what each request gets (undefined: no answer). */
async function fakeBroker(answer: (asked: Asked, socket: net.Socket, nth: number) => Map<number, Buffer> | undefined, cuts = 1): Promise<{ port: number; asked: Asked[]; connections: () => number; server: net.Server }> {
  const asked: Asked[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.push(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const { id, asked: a } = decodeRequest(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + pending.readInt32BE(0));
        asked.push(a);
        const records = answer(a, socket, asked.length);
        if (records === undefined) continue;
        const bytes = encodeResponse(id, a.topic, records);
        // The answer in `cuts` writes, a turn of the event loop apart.
        const step = Math.ceil(bytes.length / cuts);
        const write = (from: number): void => {
          if (from >= bytes.length || socket.destroyed) return;
          socket.write(bytes.subarray(from, from + step));
          setImmediate(() => write(from + step));
        };
        write(0);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, asked, connections: () => connections, server };
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) if (s.listening) await new Promise((resolve) => s.close(resolve));
});

describe('FetchConnection', () => {
  it('asks for what it is given and hands back each partition\'s bytes, however TCP cuts the answer', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.nat({ max: 50 }), { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 3_000 }), fc.integer({ min: 1, max: 40 }), fc.maxSafeNat(),
      async (partitions, bytes, cuts, offset) => {
        const records = new Map(partitions.map((p, i) => [p, Buffer.from(bytes.subarray(i))]));
        const broker = await fakeBroker(() => records, cuts);
        const conn = new FetchConnection('127.0.0.1', broker.port, 'tapedeck-test');
        const parts = partitions.map((partition, i) => ({ partition, offset: offset - i > 0 ? offset - i : 0, maxBytes: 1024 * (i + 1) }));
        const got = await conn.fetch('t.raw', parts, 100, 4096);
        conn.close();
        expect(broker.asked).toEqual([{ apiKey: 1, version: 4, clientId: 'tapedeck-test', maxWaitMs: 100, maxBytes: 4096, topic: 't.raw', parts }]);
        expect(got).toEqual(partitions.map((p) => ({ partition: p, errorCode: 0, highWatermark: 1000, records: records.get(p) })));
      }), { numRuns: 30 });
  });

  it('opens a new connection when the broker closed the idle one', async () => {
    const broker = await fakeBroker((_, socket, nth) => {
      if (nth === 1) setImmediate(() => socket.end()); // after the first answer, as connections.max.idle.ms would
      return new Map([[0, Buffer.from(`answer ${nth}`)]]);
    });
    const conn = new FetchConnection('127.0.0.1', broker.port, 'c');
    const ask = async () => (await conn.fetch('t', [{ partition: 0, offset: 0, maxBytes: 10 }], 10, 10))[0]!.records.toString();
    expect(await ask()).toBe('answer 1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ask()).toBe('answer 2');
    expect(broker.connections()).toBe(2);
    conn.close();
  });

  it('fails a fetch in one line when the broker answers nothing, or is not there', async () => {
    const silent = await fakeBroker(() => undefined);
    const conn = new FetchConnection('127.0.0.1', silent.port, 'c', 200);
    await expect(conn.fetch('t', [{ partition: 0, offset: 0, maxBytes: 10 }], 10, 10)).rejects.toThrow(/^Kafka at 127\.0\.0\.1:\d+ answered nothing for 0\.2 s$/);
    conn.close();
    const gone = await fakeBroker(() => undefined);
    await new Promise((resolve) => gone.server.close(resolve));
    const none = new FetchConnection('127.0.0.1', gone.port, 'c');
    await expect(none.fetch('t', [], 10, 10)).rejects.toThrow(/^Kafka at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });
});
