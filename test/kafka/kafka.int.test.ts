/**
 * Kafka for real, against a real Apache Kafka broker (see broker.ts): record from the
 * simulator with --kafka; replay from Kafka equals replay from Parquet; the raw topic,
 * de-duplicated, holds exactly the archive's LogEvents even when the broker was down for
 * 20 s mid-recording; consumer-group workers split the assets between them; the reader
 * streams, each partition through a bounded buffer, in exactly the archive's order (on a
 * reader thread too), reads gzip record sets, and a 200k-event topic replays in an 80 MB
 * heap with the Parquet replay's digests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaSourceError, openKafka, readKafka } from '../../replayer/kafka-source.ts';
import { openKafkaThreaded } from '../../replayer/kafka-thread.ts';
import { KafkaForwarder } from '../../recorder/kafka-forwarder.ts';
import { Spool } from '../../recorder/spool.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { UiHub, type UiMessage } from '../../src/ui/hub.ts';
import { cutBatch, ensureTopic, kafkaClient, kafkajsProducer, PRODUCE_TUNED, toMessages } from '../../src/storage/kafka.ts';
import { canonicalLine, tableColumns } from '../../src/storage/outputs.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { indicatorColumns, readManifest } from '../../src/storage/run.ts';
import { readReplayOrder, runCli, sleep, startCli, tmpDir } from '../helpers.ts';
import { SKIP_KAFKA, startBroker, type Broker } from './broker.ts';
import { produceArchive } from './produce-archive.ts';

let broker: Broker;
let sim: Simulator;

beforeAll(async () => {
  broker = startBroker();
  console.log(`Kafka broker: Apache Kafka ${broker.version} at ${broker.brokers}`);
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 21, meanGapMs: 120 });
}, 600_000);

afterAll(async () => {
  await sim?.close();
  broker?.down();
});

/** This run's own topic prefixes and group: a broker that already served a run holds the last run's topics. */
const RUN = Date.now().toString(36);
const [K1, K2, K3, K4] = [`k1-${RUN}`, `k2-${RUN}`, `k3-${RUN}`, `k4-${RUN}`] as const;

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];
const key = (ev: LogEvent): string => `${ev.session}#${ev.ingestSeq}`;


async function topicEvents(topic: string): Promise<LogEvent[]> {
  const read = await readKafka({ brokers: broker.brokers.split(','), topic });
  return [...read.sessions.values()].flat();
}

/** Two simulated sessions over the same 10 minutes, as two recorders would leave them. */
async function twoSessions(): Promise<{ dir: string; a: LogEvent[]; b: LogEvent[]; order: string[] }> {
  const dir = tmpDir();
  generateArchive({ minutes: 10, seed: 7, out: path.join(dir, 'a'), faults: false });
  generateArchive({ minutes: 10, seed: 8, out: path.join(dir, 'b'), faults: false });
  const [a, b] = [await readReplayOrder(path.join(dir, 'a')), await readReplayOrder(path.join(dir, 'b'))];
  return { dir, a, b, order: (await readReplayOrder(dir)).map(key) };
}

/**
 * Produces sessions to a new topic as recorders delivering at the same time would: round
 * after round, each session's events of the next `sliceMs` of receive time, and every
 * third round the first half of the slice again (a resend after an unclear failure).
 */
async function produceInterleaved(topic: string, partitions: number, sessions: LogEvent[][], sliceMs: number): Promise<{ records: number; resent: number }> {
  const kafka = kafkaClient(broker.brokers.split(','), 'tapedeck-test');
  const admin = kafka.admin();
  await admin.connect();
  // The simulated sessions are of 2024: without `keep`, retention would delete them mid-test.
  await ensureTopic(admin, topic, partitions, { keep: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let records = 0;
  let resent = 0;
  const send = async (events: LogEvent[], again = false): Promise<void> => {
    const messages = events.flatMap((ev) => toMessages(ev, partitions));
    records += messages.length;
    if (again) resent += messages.length;
    for (let i = 0; i < messages.length; i += 4_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 4_000) });
  };
  const slice = BigInt(sliceMs) * 1_000_000n;
  const t0 = sessions.reduce((t, s) => (s[0]!.recvNs < t ? s[0]!.recvNs : t), sessions[0]![0]!.recvNs);
  const next = sessions.map(() => 0);
  for (let round = 1; next.some((i, k) => i < sessions[k]!.length); round++) {
    for (const [k, s] of sessions.entries()) {
      const from = next[k]!;
      let to = from;
      while (to < s.length && s[to]!.recvNs < t0 + BigInt(round) * slice) to++;
      await send(s.slice(from, to));
      if (round % 3 === 0) await send(s.slice(from, from + Math.ceil((to - from) / 2)), true);
      next[k] = to;
    }
  }
  await producer.disconnect();
  return { records, resent };
}

function digests(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(readManifest(dir).tables).map(([t, r]) => [t, r.sha256]));
}

describe.skipIf(SKIP_KAFKA)('Kafka', () => {
  const dir = tmpDir();

  it('records to Kafka; replay from Kafka and from Parquet give identical digests', async () => {
    const rec = startCli(['record', '--out', dir, '--duration', '12s', '--windows', '1s,10s', '--metrics-port', '0', '--kafka', broker.brokers, '--topic-prefix', K1, ...endpoints()]);
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(rec.stdout).toMatch(new RegExp(`kafka: \\d+ events delivered to ${K1}\\.raw\n`));
    const fromKafka = runCli(['replay', '--from', `kafka://${broker.brokers}/${K1}.raw`, '--windows', '1s,10s', '--out', path.join(dir, 'from-kafka')]);
    expect(fromKafka.code, fromKafka.stderr).toBe(0);
    const fromParquet = runCli(['replay', '--from', path.join(dir, 'raw'), '--windows', '1s,10s', '--out', path.join(dir, 'from-parquet')]);
    expect(fromParquet.code, fromParquet.stderr).toBe(0);
    expect(digests(path.join(dir, 'from-kafka'))).toEqual(digests(path.join(dir, 'from-parquet')));
    expect(readManifest(path.join(dir, 'from-kafka')).tables.candles!.rows).toBeGreaterThan(20);
    const inTopic = await topicEvents(`${K1}.raw`);
    expect(inTopic.map(key).sort()).toEqual((await readReplayOrder(path.join(dir, 'raw'))).map(key).sort());
  }, 120_000);

  it('records Bitstamp, Kraken and CryptoCompare too (all five simulated exchanges); replay from Kafka and from Parquet give identical digests', async () => {
    const exchanges = ['binance', 'coinbase', 'bitstamp', 'kraken', 'cryptocompare'];
    const four = await startSimulator({ exchanges, seed: 22, meanGapMs: 120 });
    try {
      const d = tmpDir();
      const rec = startCli([
        'record', '--exchanges', exchanges.join(','), '--out', d, '--duration', '12s', '--windows', '1s,10s', '--metrics-port', '0',
        '--kafka', broker.brokers, '--topic-prefix', K4, ...exchanges.flatMap((x) => ['--endpoint', `${x}=${four.wsUrl(x)}`]),
      ], { CRYPTOCOMPARE_API_KEY: 'kafka-test-key' });
      expect(await rec.exited, rec.stderr).toBe(0);
      const fromKafka = runCli(['replay', '--from', `kafka://${broker.brokers}/${K4}.raw`, '--windows', '1s,10s', '--out', path.join(d, 'from-kafka')]);
      expect(fromKafka.code, fromKafka.stderr).toBe(0);
      const fromParquet = runCli(['replay', '--from', path.join(d, 'raw'), '--windows', '1s,10s', '--out', path.join(d, 'from-parquet')]);
      expect(fromParquet.code, fromParquet.stderr).toBe(0);
      expect(digests(path.join(d, 'from-kafka'))).toEqual(digests(path.join(d, 'from-parquet')));
      const inTopic = await topicEvents(`${K4}.raw`);
      expect(new Set(inTopic.filter((ev) => ev.kind === 'frame').map((ev) => ev.exchange))).toEqual(new Set(exchanges));
      expect(inTopic.map(key).sort()).toEqual((await readReplayOrder(path.join(d, 'raw'))).map(key).sort());
      // Each exchange's trades made candles (1s and 10s, two symbols): the new exchanges are folded, not only carried
      // (CryptoCompare's under each of its markets: `cryptocompare:Kraken`).
      const candles = await readParquet(path.join(d, 'from-kafka', 'candles.parquet'));
      for (const x of exchanges) expect(candles.filter((c) => String(c.exchange).split(':')[0] === x && Number(c.trades) > 0).length, x).toBeGreaterThan(0);
      expect(inTopic.some((ev) => `${ev.payload} ${ev.meta}`.includes('kafka-test-key')), 'the API key in the topic').toBe(false);
    } finally {
      await four.close();
    }
  }, 180_000);

  it('splits assets between consumer-group workers, whose outputs together are the whole', async () => {
    const run = (name: string) => startCli(['replay', '--from', `kafka://${broker.brokers}/${K1}.raw`, '--group', `workers-${RUN}`, '--windows', '1s,10s', '--out', path.join(dir, name)]);
    const [a, b] = [run('worker-a'), run('worker-b')];
    expect(await a.exited, a.stderr).toBe(0);
    expect(await b.exited, b.stderr).toBe(0);
    const whole = readManifest(path.join(dir, 'from-parquet'));
    const cols = tableColumns('candles', indicatorColumns(whole.engine));
    const lines = async (d: string, t: string) => (await readParquet(path.join(dir, d, `${t}.parquet`))).map((r) => canonicalLine({ ...r, session: '', ingest_seq: 0n }, cols));
    const ca = await lines('worker-a', 'candles');
    const cb = await lines('worker-b', 'candles');
    expect(ca.length, 'worker a got some assets').toBeGreaterThan(0);
    expect(cb.length, 'worker b got the others').toBeGreaterThan(0);
    const assetsOf = async (d: string) => new Set((await readParquet(path.join(dir, d, 'candles.parquet'))).map((r) => String(r.symbol).replace(/USDT$|-USD$/, '')));
    const [sa, sb] = [await assetsOf('worker-a'), await assetsOf('worker-b')];
    expect([...sa].filter((x) => sb.has(x)), 'no asset is handled twice').toEqual([]);
    const parts = (d: string) => readManifest(path.join(dir, d)).inputs[0]!.file.replace(/.* partitions /, '').split(',').filter((x) => x !== '').map(Number);
    const [pa, pb] = [parts('worker-a'), parts('worker-b')];
    expect([...pa, ...pb].sort(), 'the workers split the 4 partitions between them').toEqual([0, 1, 2, 3]);
    // A window's close is decided by its exchange's watermark, which every symbol of the
    // exchange moves. So a worker's last window of a market may be one that only a later
    // event of another asset (another worker's) closed in the whole replay: the worker's
    // input ends inside it and says so (flag `end`, not complete), with the same numbers.
    // Anything else must be equal.
    const rows = async (d: string): Promise<Record<string, unknown>[]> => (await readParquet(path.join(dir, d, 'candles.parquet'))).map((r) => ({ ...r, session: '', ingest_seq: 0n }));
    const wholeRows = new Map((await rows('from-parquet')).map((r) => [`${r.exchange} ${r.symbol} ${r.interval} ${r.window_start}`, r]));
    const union: string[] = [];
    for (const d of ['worker-a', 'worker-b']) {
      const mine = await rows(d);
      const lastOf = new Map<string, bigint>();
      for (const r of mine) lastOf.set(`${r.exchange} ${r.symbol} ${r.interval}`, r.window_start as bigint);
      for (const r of mine) {
        const k = `${r.exchange} ${r.symbol} ${r.interval} ${r.window_start}`;
        const w = wholeRows.get(k);
        const cutShort = w !== undefined && String(r.flags).split(',').includes('end') && !String(w.flags).split(',').includes('end');
        if (cutShort) expect(r.window_start, `${d} ${k}: only a market's last window can end inside the worker's input`).toBe(lastOf.get(`${r.exchange} ${r.symbol} ${r.interval}`));
        union.push(canonicalLine(cutShort ? { ...r, complete: w!.complete, flags: w!.flags } : r, cols));
      }
    }
    const all = (await lines('from-parquet', 'candles')).sort();
    expect(union.sort(), 'the union of the workers\' candles is the whole replay\'s').toEqual(all);
  }, 120_000);

  it('keeps recording while the broker is down for 20 s, then delivers everything in order, once', async () => {
    if (!broker.managed) {
      console.log('broker restart test needs a broker that test/kafka/kafka.sh manages; KAFKA_BROKERS points elsewhere');
      return;
    }
    const d = tmpDir();
    const rec = startCli(['record', '--out', d, '--duration', '40s', '--metrics-port', '0', '--kafka', broker.brokers, '--topic-prefix', K2, ...endpoints()]);
    await rec.waitFor(/recording binance, coinbase/);
    await sleep(6_000);
    const downAt = BigInt(Date.now()) * 1_000_000n;
    broker.stop();
    await sleep(20_000);
    broker.start();
    const upAt = BigInt(Date.now()) * 1_000_000n;
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(rec.stderr).toMatch(/kafka: cannot deliver/);
    expect(rec.stdout).not.toMatch(/NOT delivered/);
    const archived = await readReplayOrder(path.join(d, 'raw'));
    for (const x of ['binance', 'coinbase']) {
      const during = archived.filter((e) => e.exchange === x && e.kind === 'frame' && e.recvNs > downAt + 1_000_000_000n && e.recvNs < upAt - 1_000_000_000n);
      expect(during.length, `${x} frames kept coming while the broker was down`).toBeGreaterThan(20);
    }
    const inTopic = await topicEvents(`${K2}.raw`);
    const strip = (e: LogEvent) => JSON.stringify({ ...e, recvNs: String(e.recvNs) });
    expect(inTopic.length).toBe(archived.length);
    expect(inTopic.map(strip).sort(), 'the topic holds exactly the archive\'s LogEvents').toEqual(archived.map(strip).sort());
  }, 180_000);

  it('delivers in batches the broker accepts, and skips aloud an event too large for it', async () => {
    const d = tmpDir();
    const spool = new Spool(path.join(d, 'spool.sqlite'));
    const big = 'x'.repeat(1_500_000);
    const events: LogEvent[] = Array.from({ length: 3_000 }, (_, i) => ({
      session: 'big', ingestSeq: i, recvNs: 1_700_000_000_000_000_000n + BigInt(i), exchange: 'binance', conn: 'c', kind: 'frame',
      payload: i === 1_500 ? big : `{"stream":"btcusdt@trade","data":{"s":"BTCUSDT","pad":"${'p'.repeat(900)}","i":${i}}}`, meta: '',
    }));
    for (const ev of events) spool.add(ev);
    spool.commit();
    const said: string[] = [];
    const fwd = new KafkaForwarder(spool, 'big', { brokers: broker.brokers.split(','), prefix: K3, partitions: 2, say: (l) => said.push(l) });
    for (let i = 0; i < 20 && fwd.pending() > 0; i++) expect(await fwd.pump(), said.join('\n')).toBe(true);
    await fwd.close();
    spool.close();
    expect(fwd.tooLarge).toBe(1);
    expect(said.join('\n')).toMatch(/event big#1500 \(1500000 bytes\) is larger than the broker accepts; it is in the archive/);
    const got = await topicEvents(`${K3}.raw`);
    expect(got.map((e) => e.ingestSeq).sort((a, b) => a - b)).toEqual(events.map((e) => e.ingestSeq).filter((i) => i !== 1_500));
  }, 120_000);

  it('streams a topic much larger than its buffers, in exactly the archive\'s order', async () => {
    const { a, b, order } = await twoSessions();
    const topic = `k4-${Date.now()}.raw`;
    const { records, resent } = await produceInterleaved(topic, 3, [a, b], 2_000);
    const window = 512;
    const chunk = 256;
    const stream = await openKafka({ brokers: broker.brokers.split(','), topic }, { window, chunk });
    expect(stream.partitions).toEqual([0, 1, 2]);
    expect(stream.records, 'records in the topic, repeats and copies included').toBe(records);
    expect(records, 'the topic is far larger than what the reader may hold').toBeGreaterThan(10 * (window + chunk) * 3);
    const got: string[] = [];
    for await (const batch of stream.batches()) for (const ev of batch) got.push(key(ev));
    expect(got.length).toBe(order.length);
    expect(got, 'the Kafka read gives the Parquet replay\'s order, each event once').toEqual(order);
    expect(stream.duplicates(), 'every resend and every copy of a symbol-less event was dropped').toBe(records - order.length);
    expect(stream.resends(), 'each resent record was found to be the event it repeats').toBe(resent);
    expect(resent).toBeGreaterThan(1_000);
    expect(stream.sessions()).toEqual([a[0]!.session, b[0]!.session].sort());
    for (const [p, peak] of stream.peakBuffered()) {
      expect(peak, `partition ${p} never held more than window + chunk events`).toBeLessThanOrEqual(window + chunk);
      expect(peak, `partition ${p} did fill its buffer (so the pausing was exercised)`).toBe(window + chunk);
    }
    // The same read on a reader thread: the same events in the same order, the same counts.
    const threaded = await openKafkaThreaded({ brokers: broker.brokers.split(','), topic }, { window, chunk });
    expect([threaded.partitions, threaded.records]).toEqual([stream.partitions, stream.records]);
    const again: string[] = [];
    for await (const batch of threaded.batches()) for (const ev of batch) again.push(key(ev));
    expect(again, 'the reader thread hands over what the stream yields, in order').toEqual(got);
    expect([threaded.duplicates(), threaded.resends(), threaded.sessions(), threaded.peakBuffered()]).toEqual([stream.duplicates(), stream.resends(), stream.sessions(), stream.peakBuffered()]);
    // The replay says how many resent records it replayed once.
    const r = runCli(['replay', '--from', `kafka://${broker.brokers}/${topic}`, '--windows', '1m', '--out', path.join(tmpDir(), 'k')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`replayed ${order.length} events`);
    expect(r.stdout).toContain(`, ${resent} resent records of kafka://${broker.brokers}/${topic} replayed once)`);
  }, 300_000);

  it('reads on across a broker restart mid-read (the leaders learnt again), in exactly the archive\'s order', async () => {
    if (!broker.managed) {
      console.log('broker restart test needs a broker that test/kafka/kafka.sh manages; KAFKA_BROKERS points elsewhere');
      return;
    }
    const { a, b, order } = await twoSessions();
    const topic = `k8-${Date.now()}.raw`;
    await produceInterleaved(topic, 3, [a, b], 2_000);
    const stream = await openKafka({ brokers: broker.brokers.split(','), topic }, { window: 512, chunk: 256, idleMs: 60_000 });
    const got: string[] = [];
    let restarted: Promise<void> | undefined;
    for await (const batch of stream.batches()) {
      for (const ev of batch) got.push(key(ev));
      if (restarted === undefined && got.length > order.length / 4) {
        // Mid-read: the broker goes away for 3 s while the read goes on (its buffers run dry,
        // its fetches fail); it must find the broker again and go on from where it was.
        broker.stop();
        restarted = sleep(3_000).then(() => broker.start());
      }
    }
    await restarted;
    expect(restarted).toBeDefined();
    expect(got, 'every event once, in the Parquet replay\'s order, across the restart').toEqual(order);
  }, 300_000);

  it('reads gzip record sets as the recorder\'s producer writes them with compression on', async () => {
    const { a } = await twoSessions();
    const topic = `k7-${Date.now()}.raw`;
    const kafka = kafkaClient(broker.brokers.split(','), 'tapedeck-test');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, topic, 2, { keep: true });
    await admin.disconnect();
    const producer = await kafkajsProducer(kafka, topic, 2, { ...PRODUCE_TUNED, compression: 'gzip' });
    for (let i = 0; i < a.length;) {
      const cut = cutBatch(a.slice(i, i + PRODUCE_TUNED.maxEvents), 2, PRODUCE_TUNED);
      await producer.send(cut);
      i += cut.length;
    }
    await producer.close();
    const read = await readKafka({ brokers: broker.brokers.split(','), topic });
    expect(read.sessions.get(a[0]!.session)).toEqual(a);
  }, 120_000);

  it('says aloud when sessions interleave in a partition deeper than the window', async () => {
    const { a, b } = await twoSessions();
    const topic = `k5-${Date.now()}.raw`;
    await produceInterleaved(topic, 2, [a.slice(0, 6_000), b.slice(0, 6_000)], 60_000);
    const stream = await openKafka({ brokers: broker.brokers.split(','), topic }, { window: 100, chunk: 100 });
    const drain = async (): Promise<void> => {
      for await (const batch of stream.batches()) void batch;
    };
    await expect(drain()).rejects.toThrow(/k5-\d+\.raw\[\d\]@\d+: event sim-\d+-\S+#\d+ \(recv_ns \d+\) comes more than 100 events after events it precedes/);
    const whole = await readKafka({ brokers: broker.brokers.split(','), topic });
    expect(whole.sessions.size, 'the whole-partition reader still sorts it').toBe(2);
    // And replay, told so, reads it whole instead of failing: the same outputs as the Parquet sessions.
    const warned: string[] = [];
    const cfg = { ...DEFAULT_CONFIG, intervalsMs: [1_000, 10_000] };
    // With the dashboard's hub as a sink: the rows of the first try went out before it stopped.
    const hub = new UiHub({ mode: 'replay', source: topic, intervals: ['1s', '10s'], indicators: [] });
    const fromKafka = await replay({
      from: `kafka://${broker.brokers}/${topic}`, out: path.join(tmpDir(), 'k'), speed: 'max', config: cfg, kafkaWindow: 100, warn: (l) => warned.push(l), sinks: [hub], taps: [hub.tap],
    });
    hub.close();
    expect(warned.join('\n')).toMatch(/comes more than 100 events after .*; reading the whole topic into memory/);
    const shown = hub.snapshot() as Extract<UiMessage, { type: 'snapshot' }>;
    for (const t of ['candles', 'indicators', 'arbitrage', 'gaps'] as const) {
      expect(shown.tables[t].length, `the dashboard holds each ${t} row once (it held the first try's too)`).toBe(fromKafka.tables[t].length);
    }
    expect(shown.progress.events, 'and counts each event once').toBe(fromKafka.manifest.stats.events);
    const both = tmpDir();
    for (const part of [a.slice(0, 6_000), b.slice(0, 6_000)]) {
      const w = new ArchiveWriter(both, part[0]!.session);
      for (const ev of part) w.write(ev);
      w.close();
    }
    const fromParquet = await replay({ from: both, out: path.join(tmpDir(), 'p'), speed: 'max', config: cfg });
    for (const t of Object.keys(fromParquet.manifest.tables)) expect(fromKafka.manifest.tables[t]!.sha256, t).toBe(fromParquet.manifest.tables[t]!.sha256);
  }, 300_000);

  it('refuses in one line two recordings given one session id in one topic, as the archive\'s reader does', async () => {
    // Two recorders over the same 10 minutes, the second started with the first's --session:
    // before, every event of the second whose number the first had used was taken for a resend.
    const { a, b } = await twoSessions();
    const same = b.map((e) => ({ ...e, session: a[0]!.session }));
    const topic = `k9-${Date.now()}.raw`;
    await produceInterleaved(topic, 2, [a, same], 2_000);
    const r = runCli(['replay', '--from', `kafka://${broker.brokers}/${topic}`, '--out', path.join(tmpDir(), 'k')]);
    expect(r.code, r.stderr).toBe(2);
    // One line, or two: which partition meets the second recording's first number after its
    // own has been handed out depends on how the fetches fall; then the replay first says it
    // reads the topic whole (a repeat deeper than it can compare), and the whole read refuses.
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('tapedeck: warning: ')), r.stderr).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('tapedeck: warning: ')).every((l) => l.endsWith('reading the whole topic into memory to replay it in order')), r.stderr).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`session ${a[0]!.session} has (two different events numbered \\d+|event \\d+ after its event \\d+ .*) \\(two recordings under one session id\\?\\)`));
    // With a small window the second recording's numbers are met after the first's were handed
    // out: the replay reads the topic whole, and the whole read refuses them just the same.
    const warned: string[] = [];
    const small = replay({ from: `kafka://${broker.brokers}/${topic}`, out: path.join(tmpDir(), 'small'), speed: 'max', config: DEFAULT_CONFIG, kafkaWindow: 64, warn: (l) => warned.push(l) });
    await expect(small).rejects.toThrow(new RegExp(`session ${a[0]!.session} has (two different events numbered \\d+|event \\d+ after its event \\d+ .*) \\(two recordings under one session id\\?\\)`));
    expect(warned.every((l) => l.endsWith('reading the whole topic into memory to replay it in order')), warned.join('\n')).toBe(true);
    // The archive's reader refuses the same two recordings in one folder.
    const both = tmpDir();
    for (const part of [a, same]) {
      const w = new ArchiveWriter(path.join(both, part === a ? 'x' : 'y'), part[0]!.session);
      for (const ev of part) w.write(ev);
      w.close();
    }
    const p = runCli(['replay', '--from', both, '--out', path.join(tmpDir(), 'p')]);
    expect([p.code, p.stderr]).toEqual([2, expect.stringMatching(/two different events numbered \d+ \(two recordings under one session id\?\)/)]);
  }, 300_000);

  it('replays a topic whose head retention deleted through a batch resent later: the resent copies are the events', async () => {
    // Before, every resent copy below the first number left in a partition was refused as a second recording under the session's id.
    const gen = path.join(tmpDir(), 'trimmed');
    generateArchive({ minutes: 6, seed: 11, out: gen, faults: false });
    const events = await readReplayOrder(gen);
    const half = Math.floor(events.length / 2);
    const topic = `k10-${Date.now()}.raw`;
    const kafka = kafkaClient(broker.brokers.split(','), 'tapedeck-test');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopic(admin, topic, 2, { keep: true });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const send = async (part: LogEvent[]): Promise<void> => {
        const messages = part.flatMap((ev) => toMessages(ev, 2));
        for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
      };
      // The first half, the second, then the first again (a recorder's resend after an unclear failure).
      await send(events.slice(0, half));
      const firstHalf = await admin.fetchTopicOffsets(topic);
      await send(events.slice(half));
      await send(events.slice(0, half));
      await producer.disconnect();
      // Retention deletes each partition's head, half-way through the first half's first copies.
      await admin.deleteTopicRecords({ topic, partitions: firstHalf.map((o) => ({ partition: o.partition, offset: String(Math.floor(Number(o.high) / 2)) })) });
    } finally {
      await admin.disconnect();
    }
    const out = tmpDir();
    const fromParquet = runCli(['replay', '--from', gen, '--out', path.join(out, 'p')]);
    expect(fromParquet.code, fromParquet.stderr).toBe(0);
    const r = runCli(['replay', '--from', `kafka://${broker.brokers}/${topic}`, '--out', path.join(out, 'k')]);
    expect(r.code, r.stderr).toBe(0);
    // Every event is there once: the tables are the Parquet replay's.
    expect(digests(path.join(out, 'k'))).toEqual(digests(path.join(out, 'p')));
    const warnings = r.stderr.trim().split('\n');
    const alone = warnings.filter((l) => l.includes('resent copy alone'));
    expect(alone, r.stderr).toEqual([expect.stringMatching(new RegExp(`^tapedeck: warning: \\d+ events were read from a recorder's resent copy alone: their first copies are no longer in kafka://\\S+/${topic.replace('.', '\\.')} \\(deleted by retention\\?\\)$`))]);
    // The one other line a replay may say: that it read the topic whole (the copies came after events they precede were handed out).
    expect(warnings.filter((l) => !alone.includes(l)).every((l) => /is the only copy left of one the partition's deleted head held \(retention\), after events it precedes were handed out; reading the whole topic into memory to replay it in order$/.test(l)), r.stderr).toBe(true);
  }, 300_000);

  it('replays a 200k-event topic in a 80 MB heap, with the Parquet replay\'s digests', async () => {
    // The reader holds at most window + chunk events a partition whatever the topic's length;
    // before the buffers let go of what they had handed out, this replay ran out of a 96 MB heap.
    const gen = path.join(tmpDir(), 'gen');
    expect(generateArchive({ minutes: 122, out: gen }).events).toBeGreaterThan(200_000);
    const topic = `k6-${Date.now()}.raw`;
    await produceArchive(broker.brokers.split(','), topic, gen, 4);
    const out = tmpDir();
    const fromParquet = runCli(['replay', '--from', gen, '--out', path.join(out, 'from-parquet')]);
    expect(fromParquet.code, fromParquet.stderr).toBe(0);
    // Read in line (the reader in the capped heap too), and on the reader thread (its own heap, bounded by READER_HEAP).
    for (const thread of ['0', '1']) {
      const capped = { NODE_OPTIONS: '--max-old-space-size=80', TAPEDECK_READ_THREAD: thread };
      const fromKafka = runCli(['replay', '--from', `kafka://${broker.brokers}/${topic}`, '--out', path.join(out, `from-kafka-${thread}`)], capped);
      expect(fromKafka.code, fromKafka.stderr).toBe(0);
      expect(digests(path.join(out, `from-kafka-${thread}`)), `TAPEDECK_READ_THREAD=${thread}`).toEqual(digests(path.join(out, 'from-parquet')));
    }
    // A reader thread whose heap is too small for its buffers says so, and what to do.
    const starved = await openKafkaThreaded({ brokers: broker.brokers.split(','), topic }, {}, { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 })
      .then(async (stream) => {
        for await (const _ of stream.batches());
      })
      .then(() => undefined, (err: Error) => err);
    expect(starved).toBeInstanceOf(KafkaSourceError);
    expect(starved?.message).toMatch(/^the Kafka reader thread ran out of its 4 MB heap .*; replay with TAPEDECK_READ_THREAD=0 to read in line$/);
  }, 300_000);

  it('says in one line that a broker cannot be reached', () => {
    const r = runCli(['replay', '--from', 'kafka://127.0.0.1:1/none', '--out', path.join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tapedeck: cannot reach Kafka at 127\.0\.0\.1:1/);
  }, 60_000);
});
