/**
 * tapedeck's own producer (kafka-produce.ts) against a fake broker on loopback that reads
 * InitProducerId and Produce v3 requests as Kafka would and answers each produce as told:
 * NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT and a dropped connection
 * make it learn the leaders again and resend the very same batch (same producer id, epoch
 * and sequence); DUPLICATE_SEQUENCE_NUMBER counts as written; the next send's sequence
 * follows on from what was written, never from what was only tried.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/log/event.ts';
import { kafkaClient, PRODUCE_TUNED } from '../../src/storage/kafka.ts';
import { OwnProducer } from '../../src/storage/kafka-produce.ts';

interface Produced {
  readonly partition: number;
  readonly producerId: bigint;
  readonly epoch: number;
  readonly sequence: number;
  readonly records: number;
  readonly bytes: Buffer;
}

/**
 * Answers each Produce with the next of `answers` for all its partitions, or by partition
 * ('drop': closes the connection unanswered; none left: 0); each InitProducerId with the
 * next producer id from 42.
 */
async function fakeBroker(answers: (number | 'drop' | Record<number, number>)[]): Promise<{ port: number; produced: Produced[]; server: net.Server }> {
  const produced: Produced[] = [];
  let nextId = 42n;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const req = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + pending.readInt32BE(0));
        const [apiKey, id] = [req.readInt16BE(0), req.readInt32BE(4)];
        let at = 10 + req.readInt16BE(8);
        let body: Buffer;
        if (apiKey === 22) {
          body = Buffer.alloc(16);
          body.writeBigInt64BE(nextId++, 6);
          body.writeInt16BE(3, 14);
        } else {
          at += 2 + 2 + 4 + 4; // transactional id (null), acks, timeout, one topic
          const name = req.subarray(at, at + 2 + req.readInt16BE(at));
          at += name.length;
          const parts: number[] = [];
          for (let n = req.readInt32BE(at), i = 0, p = at + 4; i < n; i++) {
            const bytes = Buffer.from(req.subarray(p + 8, p + 8 + req.readInt32BE(p + 4)));
            parts.push(req.readInt32BE(p));
            produced.push({ partition: req.readInt32BE(p), producerId: bytes.readBigInt64BE(43), epoch: bytes.readInt16BE(51), sequence: bytes.readInt32BE(53), records: bytes.readInt32BE(57), bytes });
            p += 8 + bytes.length;
          }
          const answer = answers.shift() ?? 0;
          if (answer === 'drop') {
            socket.destroy();
            return;
          }
          body = Buffer.alloc(4 + name.length + 4 + parts.length * 22 + 4);
          let o = body.writeInt32BE(1, 0);
          o += name.copy(body, o);
          o = body.writeInt32BE(parts.length, o);
          for (const p of parts) {
            o = body.writeInt32BE(p, o);
            o = body.writeInt16BE(typeof answer === 'number' ? answer : answer[p] ?? 0, o) + 16;
          }
        }
        const head = Buffer.alloc(8);
        head.writeInt32BE(4 + body.length, 0);
        head.writeInt32BE(id, 4);
        socket.write(Buffer.concat([head, body]));
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, produced, server };
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) if (s.listening) await new Promise((resolve) => s.close(resolve));
});

const event = (ingestSeq: number): LogEvent =>
  ({ session: 's', ingestSeq, recvNs: 1_720_000_000_000_000_000n + BigInt(ingestSeq), exchange: 'binance', conn: 'c', kind: 'frame', payload: `{"stream":"btcusdt@trade","data":{"s":"BTCUSDT","i":${ingestSeq}}}`, meta: '' });

async function producer(port: number, partitions = 1): Promise<{ p: OwnProducer; learnt: () => number }> {
  let learnt = 0;
  const learnLeaders = async (): Promise<Map<number, string>> => {
    learnt++;
    return new Map(Array.from({ length: partitions }, (_, i) => [i, `127.0.0.1:${port}`]));
  };
  // kafkajs is never asked: the leaders come from learnLeaders.
  const p = await OwnProducer.open(kafkaClient(['127.0.0.1:1']), 't', partitions, PRODUCE_TUNED, { learnLeaders, retryForMs: 30_000 });
  return { p, learnt: () => learnt };
}

describe('OwnProducer retries', () => {
  for (const trouble of [6, 5, 7, 'drop'] as const) {
    it(`resends the same batch after ${trouble === 'drop' ? 'a dropped connection' : `error ${trouble}`}, and the next send follows on`, async () => {
      const broker = await fakeBroker([trouble, 0, 0]);
      const { p, learnt } = await producer(broker.port);
      await p.send([event(1), event(2), event(3)]);
      await p.send([event(4)]);
      await p.close();
      const [first, again, next] = broker.produced;
      expect(broker.produced).toHaveLength(3);
      expect(again!.bytes.equals(first!.bytes), 'the retry is the very same batch').toBe(true);
      expect([first!.producerId, first!.epoch, first!.sequence, first!.records]).toEqual([42n, 3, 0, 3]);
      expect([next!.producerId, next!.sequence, next!.records]).toEqual([42n, 3, 1]);
      expect(p.resent).toBe(1);
      // Learnt at the start, and again after an answer that leadership moved or a lost connection.
      expect(learnt()).toBe(trouble === 7 ? 1 : 2);
    }, 30_000);
  }

  it('counts DUPLICATE_SEQUENCE_NUMBER as written: the broker has the batch already', async () => {
    const broker = await fakeBroker([46, 0]);
    const { p } = await producer(broker.port);
    await p.send([event(1), event(2)]);
    await p.send([event(3)]);
    await p.close();
    expect(broker.produced.map((b) => [b.sequence, b.records])).toEqual([[0, 2], [2, 1]]);
    expect(p.resent).toBe(0);
  });

  it('a send that fails beside a batch still unsettled (one partition too large, the other timed out) leaves no sequence number to reuse: the next send has a new producer id', async () => {
    const broker = await fakeBroker([{ 0: 10, 1: 7 }, 0]);
    const { p } = await producer(broker.port, 2);
    // A symbol-less event goes to every partition.
    const open: LogEvent = { ...event(1), kind: 'open', payload: '' };
    await expect(p.send([open])).rejects.toThrow(/MESSAGE_TOO_LARGE/);
    await p.send([{ ...open, ingestSeq: 2 }]);
    await p.close();
    expect(broker.produced.map((b) => [b.partition, b.producerId, b.sequence])).toEqual([[0, 42n, 0], [1, 42n, 0], [0, 43n, 0], [1, 43n, 0]]);
  });
});
