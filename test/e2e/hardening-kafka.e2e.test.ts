/**
 * A recorder killed while the Kafka broker is down (issue 10 item 2): its events never
 * reached Kafka, and recovery used to prune the spool by the archive cursor alone, so they
 * vanished from Kafka without a word. Now a restart without --kafka keeps them in the spool
 * and says so; a restart with --kafka delivers them, and the raw topic then holds every
 * committed event of the crashed session. Needs the real broker (test/kafka/broker.ts).
 */
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { readKafka } from '../../replayer/kafka-source.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { leftInSpool, sleep, startCli, tmpDir } from '../helpers.ts';
import { SKIP_KAFKA, startBroker, type Broker } from '../kafka/broker.ts';

let broker: Broker | undefined;
let sim: Simulator;

beforeAll(async () => {
  if (SKIP_KAFKA) return;
  broker = startBroker(19192);
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 61, meanGapMs: 120 });
}, 600_000);

afterAll(async () => {
  await sim?.close();
  broker?.down();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];
const key = (ev: LogEvent): string => `${ev.session}#${ev.ingestSeq}`;
/** This run's own topic prefix: a broker that already served a run holds the last run's topic. */
const H2 = `h2-${Date.now().toString(36)}`;

/** Runs the CLI without blocking this process, where the simulator serves (runCli would stall it). */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = startCli(args);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

describe('crash while Kafka is unreachable, restart without --kafka', () => {
  it('archives everything, keeps what Kafka never got in the spool, and says so', async () => {
    const local = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 62, meanGapMs: 120 });
    try {
      const eps = ['--endpoint', `binance=${local.wsUrl('binance')}`, '--endpoint', `coinbase=${local.wsUrl('coinbase')}`];
      const out = tmpDir();
      // Port 9 (discard) on loopback: nothing listens, so every delivery fails.
      const rec = startCli(['record', '--out', out, '--metrics-port', '0', '--kafka', '127.0.0.1:9', '--topic-prefix', 'h1', ...eps]);
      const session = (await rec.waitFor(/as session ([A-Za-z0-9._-]+)/))[1]!;
      await rec.waitFor(/kafka: cannot deliver/);
      await sleep(2_000);
      rec.child.kill('SIGKILL');
      await rec.exited;
      const r = await run(['record', '--out', out, '--duration', '1s', '--metrics-port', '0', ...eps]);
      expect(r.code, r.stderr).toBe(0);
      const m = new RegExp(`warning: (\\d+) events of session ${session} never reached Kafka; they are in the archive .* and kept in the spool .*until a record run with --kafka delivers them`).exec(r.stderr);
      expect(m, r.stderr).not.toBe(null);
      const archived: LogEvent[] = [];
      for await (const ev of readArchive(await planArchive(path.join(out, 'raw'), [session]))) archived.push(ev);
      expect(Number(m![1]), 'every archived event of the crashed session is still owed to Kafka').toBe(archived.length);
      expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f === `${session}.spool`), 'its spool is kept').toHaveLength(1);
    } finally {
      await local.close();
    }
  }, 60_000);
});

describe.skipIf(SKIP_KAFKA)('crash during a Kafka outage', () => {
  it('keeps the crashed session\'s undelivered events, says so, and delivers them on the next --kafka run', async () => {
    if (!broker!.managed) {
      console.log('this test stops and starts the broker: it needs one that test/kafka/kafka.sh manages; KAFKA_BROKERS points elsewhere');
      return;
    }
    const out = tmpDir();
    const kafka = ['--kafka', broker!.brokers, '--topic-prefix', H2];
    const rec = startCli(['record', '--out', out, '--metrics-port', '0', ...kafka, ...endpoints()]);
    const session = (await rec.waitFor(/as session ([A-Za-z0-9._-]+)/))[1]!;
    await sleep(4_000);
    broker!.stop();
    await sleep(4_000);
    rec.child.kill('SIGKILL');
    await rec.exited;

    // Restart without Kafka: everything reaches the archive, and what Kafka lacks stays, aloud.
    const plain = await run(['record', '--out', out, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(new RegExp(`warning: \\d+ events of session ${session} never reached Kafka.*kept in the spool`));
    expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f.startsWith(session)), 'the crashed spool is kept').not.toEqual([]);

    broker!.start();
    const again = await run(['record', '--out', out, '--duration', '3s', '--metrics-port', '0', ...kafka, ...endpoints()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`kafka: delivered \\d+ events of session ${session} left by an earlier recorder`));
    expect(leftInSpool(out), 'nothing is left in the spool').toEqual([]);

    const archived: LogEvent[] = [];
    for await (const ev of readArchive(await planArchive(path.join(out, 'raw'), [session]))) archived.push(ev);
    expect(archived.length).toBeGreaterThan(100);
    const read = await readKafka({ brokers: broker!.brokers.split(','), topic: `${H2}.raw` });
    const inTopic = new Set((read.sessions.get(session) ?? []).map(key));
    const missing = archived.filter((e) => !inTopic.has(key(e)));
    expect(missing.length, 'every committed event of the crashed session reached Kafka').toBe(0);
  }, 300_000);
});
