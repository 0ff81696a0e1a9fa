/**
 * Hardening of `tapedeck record` (issue 10): a bad --session is refused at parse time,
 * a stop takes no longer than flushing does, and two recorders racing on one leftover
 * spool neither corrupt nor lose anything. A stop gives up on a sink that takes nothing
 * (saying what stayed where, and how to send it), and a second Ctrl-C stops its waiting
 * with an exit code that says whether anything was given up.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { readArchiveEvents, runCli, sleep, startCli, tmpDir } from '../helpers.ts';
import { damage, writeSpool } from '../spool-files.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 31, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

describe('record --session', () => {
  it.each([
    ['a path that climbs out of --out', '../../escaped'],
    ['a name with a space', 'my session'],
    ['an absolute path', '/tmp/x'],
    ['an empty name', ''],
  ])('refuses %s with one line and exit 2, writing nothing', (_what, session) => {
    const dir = tmpDir();
    const out = path.join(dir, 'a', 'b');
    const r = runCli(['record', '--out', out, '--session', session, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), 'one line').toHaveLength(1);
    expect(r.stderr).toMatch(/^tapedeck: bad --session/);
    expect(fs.readdirSync(dir), 'nothing was written, inside --out or outside it').toEqual([]);
  });
});

describe('a --session already in the archive', () => {
  it('is refused in one line, exit 2, and the archive stays as it was: a second recording would write over its files', async () => {
    const out = tmpDir();
    const first = runCli(['record', '--out', out, '--session', 'twice', '--duration', '1s', '--no-metrics', ...endpoints()]);
    expect(first.code, first.stderr).toBe(0);
    const before = await readArchiveEvents(path.join(out, 'raw'));
    expect(before.length).toBeGreaterThan(0);
    const again = runCli(['record', '--out', out, '--session', 'twice', '--duration', '1s', '--no-metrics', ...endpoints()]);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tapedeck: session twice is in the archive \S+ already \(\d+ files?\), and a recording under the same id would write over it; choose another --session$/)]);
    expect(await readArchiveEvents(path.join(out, 'raw'))).toEqual(before);
  }, 30_000);
});

describe('a damaged leftover spool', () => {
  it('is recovered as far as it reads, set aside in one warning line each, and the recording goes on', async () => {
    const out = tmpDir();
    const old = writeSpool(path.join(out, 'spool', 'old.spool'), 'old', [3, 4, 5]);
    const { first, last } = damage(path.join(out, 'spool', 'old.spool'), 1, 'bytes');
    fs.writeFileSync(path.join(out, 'spool', 'junk.spool'), 'not SQLite');
    const r = runCli(['record', '--out', out, '--session', 'now', '--duration', '2s', '--no-metrics', ...endpoints()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: the spool'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/junk\.spool is damaged \(it does not open as a spool: .*\); nothing of it was read; it is set aside, nothing pruned from it, as \S+damaged\/junk\.spool$/);
    expect(warnings[1]).toMatch(new RegExp(`old\\.spool is damaged \\(session old, ingest_seq ${first} to ${last}: .*\\); all it held that reads back is in \\S+; it is set aside, nothing pruned from it, as \\S+damaged/old\\.spool$`));
    const archived = await readArchiveEvents(path.join(out, 'raw'));
    expect(archived.filter((e) => e.session === 'old').map((e) => e.ingestSeq)).toEqual(old.filter((e) => e.ingestSeq < first || e.ingestSeq > last).map((e) => e.ingestSeq));
    expect(archived.filter((e) => e.session === 'now').length, 'the new session recorded').toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(out, 'spool', 'damaged')).sort()).toEqual(['junk.spool', 'old.spool']);
  }, 30_000);
});

describe('stopping', () => {
  // Before: the backfill give-up timer (10 s) was left running and held the exit up; a stop
  // that hangs is caught by the test's timeout, not by timing it on a shared machine.
  it('exits by itself once everything is flushed, waiting on nothing when nothing is in flight', async () => {
    const dir = tmpDir();
    const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
    const session = (await rec.waitFor(/^recording binance, coinbase .* as session ([^\s;]+)/m))[1]!;
    await sleep(1_500);
    rec.child.kill('SIGTERM');
    expect(await rec.exited, `one SIGTERM, and it exited by itself with 0: ${rec.stderr}`).toBe(0);
    expect(rec.stdout, 'the recording was written whole').toMatch(/^recorded [1-9]\d* events as \S+ → \S+; live outputs → /m);
    expect(rec.stderr, 'nothing in flight: no wait announced, nothing given up').not.toMatch(/waiting up to|given up|gave up|warning:/);
    expect(fs.readdirSync(path.join(dir, 'spool')).filter((f) => f.startsWith(session)), 'every event reached the archive: the spool went').toEqual([]);
  }, 30_000);
});

describe("the spool's .pid file", () => {
  const KAFKA_AWAY = ['--kafka', '127.0.0.1:1', '--duration', '2s', '--no-metrics'];

  it("holds the recorder's PID while it records, and goes when it stops keeping its spool for Kafka", async () => {
    const out = tmpDir();
    const rec = startCli(['record', '--out', out, '--session', 'kept', ...KAFKA_AWAY, ...endpoints()]);
    await rec.waitFor(/recording binance, coinbase/);
    const pid = path.join(out, 'spool', 'kept.pid');
    expect(fs.readFileSync(pid, 'utf8'), 'the .pid names the recorder at work').toBe(String(rec.child.pid));
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(rec.stderr, 'the spool is kept: Kafka never got its events').toMatch(/not delivered to Kafka .* stay in the spool \S+kept\.spool/);
    expect(fs.existsSync(path.join(out, 'spool', 'kept.spool')), 'the spool stays').toBe(true);
    // Before: the .pid stayed beside the kept spool, naming a dead process.
    expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f.endsWith('.pid')), 'no .pid is left naming a process that has exited').toEqual([]);
  }, 60_000);

  it('leaves a .pid that no longer holds its PID (not its to remove)', async () => {
    const out = tmpDir();
    const rec = startCli(['record', '--out', out, '--session', 'other', ...KAFKA_AWAY, ...endpoints()]);
    await rec.waitFor(/recording binance, coinbase/);
    const pid = path.join(out, 'spool', 'other.pid');
    fs.writeFileSync(pid, '1');
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(fs.readFileSync(pid, 'utf8'), "someone else's word stays as they wrote it").toBe('1');
  }, 60_000);

  it('goes when the recorder stops on an error after its spool started (its metrics port in use: exit 2)', async () => {
    const squatter = http.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    try {
      const out = tmpDir();
      const r = runCli(['record', '--out', out, '--session', 'failed', '--metrics-port', String((squatter.address() as AddressInfo).port), '--duration', '1s', ...endpoints()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), 'one line').toEqual([expect.stringMatching(/^tapedeck: port \d+ on 127\.0\.0\.1 is in use/)]);
      expect(fs.existsSync(path.join(out, 'spool', 'failed.spool')), 'the spool had started').toBe(true);
      expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f.endsWith('.pid')), 'no .pid is left naming a process that has exited').toEqual([]);
    } finally {
      squatter.close();
    }
  }, 60_000);
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Port 1 on loopback: nothing listens there, so Kafka and Cassandra refuse every connection. */
const UNREACHABLE = ['--kafka', '127.0.0.1:1', '--sink', 'cassandra://127.0.0.1:1/ks'];

/** The events of the recording, counted three ways: the summary line, the archive, and what the Kafka warning says stayed in the spool (its file there). */
async function recorded(out: string, stdout: string, stderr: string): Promise<{ summary: number; archived: number; unsent: number; spool: string }> {
  const lines = stderr.split('\n').filter((l) => /not delivered to Kafka|stayed in the spool/.test(l));
  expect(lines, `one line says what Kafka did not get: ${stderr}`).toHaveLength(1);
  const m = new RegExp(`^warning: (\\d+) events were not delivered to Kafka \\(.*ECONNREFUSED.*\\); they are in the archive \\S+ and stay in the spool (\\S+), and the next \`tapedeck record --out ${escape(out)} --kafka 127\\.0\\.0\\.1:1\` delivers them$`).exec(lines[0]!);
  expect(m, lines[0]).not.toBeNull();
  return {
    summary: Number(/^recorded (\d+) events/m.exec(stdout)![1]), archived: (await readArchiveEvents(path.join(out, 'raw'))).length, unsent: Number(m![1]), spool: m![2]!,
  };
}

describe('stopping with Kafka and Cassandra unreachable', () => {
  it('gives up once nothing goes out, and says in one line what stayed in the spool and how to send it', async () => {
    const out = tmpDir();
    const rec = startCli(['record', '--out', out, '--duration', '2s', '--no-metrics', ...UNREACHABLE, ...endpoints()]);
    expect(await rec.exited, rec.stderr).toBe(0);
    // Before: each retry was given the whole 15 s (Kafka) and 10 s (Cassandra), one after the other: a 2 s recording took ~19 s to stop.
    expect(rec.stderr, 'the stop says what it waits for, and how long').toMatch(/^stopping: delivering \d+ events to Kafka \(up to 15 s while it takes them, 3 s if it takes none; Ctrl-C to stop waiting: they stay in the spool\)$/m);
    expect(rec.stderr, 'and why it stopped waiting').toMatch(/not delivered to Kafka \(.*; nothing went out for 3 s of the stop\)/);
    const n = await recorded(out, rec.stdout, rec.stderr);
    expect(n.unsent, 'every event recorded waits in the spool for Kafka').toBe(n.summary);
    expect(n.archived, 'and is in the archive').toBe(n.summary);
    expect(fs.existsSync(n.spool), n.spool).toBe(true);
    expect(rec.stderr).toMatch(/^stopping: writing \d+ rows to Cassandra \(up to 10 s while it takes them, 3 s if it takes none; Ctrl-C to stop waiting: they stay in \S+ks\.pending\.sqlite\)$/m);
    expect(rec.stdout).toMatch(/^cassandra: \d+ rows NOT written \(.*ECONNREFUSED.*\); kept in \S+ks\.pending\.sqlite, the next record --out /m);
  }, 60_000);

  it.each([
    ['a second Ctrl-C', []],
    ['the first Ctrl-C after --duration', ['--duration', '1s']],
  ])('%s while stopping stops the waiting: exit 0, everything recorded on disk, said in one line', async (_what, duration) => {
    const out = tmpDir();
    const rec = startCli(['record', '--out', out, '--no-metrics', ...duration, ...UNREACHABLE, ...endpoints()]);
    await rec.waitFor(/kafka: cannot deliver/);
    if (duration.length === 0) rec.child.kill('SIGINT');
    await rec.waitFor(/stopping: delivering \d+ events to Kafka/);
    rec.child.kill('SIGINT');
    // Before: the second Ctrl-C killed the recorder (130) whatever was already safe on disk,
    // and one after --duration only asked the stopping recorder to stop.
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(rec.stderr.trim().split('\n').at(-1)).toBe('tapedeck: SIGINT while stopping: stopped waiting for the network; everything recorded is on disk (what Kafka or Cassandra did not get is kept to send later, as said above)');
    expect(rec.stderr).toMatch(/not delivered to Kafka \(.*; a Ctrl-C while stopping ended the wait\)/);
    const n = await recorded(out, rec.stdout, rec.stderr);
    expect([n.unsent, n.archived], 'every event recorded is in the archive and waits in the spool for Kafka').toEqual([n.summary, n.summary]);
    const outDir = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
    expect(fs.existsSync(path.join(outDir, 'manifest.json')), 'the live outputs were written whole').toBe(true);
  }, 60_000);

  it('a second Ctrl-C that gives up a backfill under way exits 130 and says its trades are missing', async () => {
    // A REST server that takes the backfill's request and never answers it.
    let asked = false;
    const silent = http.createServer((req) => void (asked ||= req.url?.includes('historicalTrades') === true));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const rest = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/binance`;
    const rec = startCli(['record', '--exchanges', 'binance', '--out', tmpDir(), '--no-metrics', '--endpoint', `binance=${sim.wsUrl('binance')},rest=${rest}`]);
    try {
      await rec.waitFor(/recording binance/);
      // A trade dropped before the recorder's first one of its symbol is no gap: drop until one is seen (the backfill asks).
      while (!asked) {
        sim.control({ action: 'drop', exchange: 'binance', count: 1 });
        await sleep(300);
      }
      rec.child.kill('SIGINT');
      await rec.waitFor(/stopping: waiting up to 10 s for \d+ backfill\(s\) under way/);
      rec.child.kill('SIGINT');
      expect(await rec.exited, rec.stderr).toBe(130);
      expect(rec.stderr.trim().split('\n').at(-1)).toMatch(/^tapedeck: SIGINT while stopping: \d+ backfill\(s\) were given up, so the trades of their gaps are not in the recording; everything received is on disk$/);
      expect(rec.stdout, 'the recording was still written').toMatch(/^recorded \d+ events as /m);
    } finally {
      rec.child.kill('SIGKILL');
      silent.closeAllConnections();
      silent.close();
    }
  }, 60_000);
});

describe('record --duration longer than a timer waits', () => {
  it('records on past the first 24.8 days\' timer (25d stopped at once, exit 0, with a TimeoutOverflowWarning) and stops on Ctrl-C', async () => {
    const out = tmpDir();
    const rec = startCli(['record', '--duration', '25d', '--no-metrics', '--out', out, '--exchanges', 'binance', '--endpoint', 'binance=ws://127.0.0.1:1/binance']);
    await rec.waitFor(/recording binance/);
    await sleep(1_500);
    expect(rec.child.exitCode, rec.stderr).toBe(null);
    rec.child.kill('SIGINT');
    expect(await rec.exited).toBe(0);
    expect(rec.stderr).not.toContain('TimeoutOverflowWarning');
  }, 60_000);
});

/**
 * A Binance of our own on loopback: a trade every 100 ms on any WebSocket connection (the
 * n-th's id from `idOf`), REST answered by `rest`; the recorder's `--endpoint` for it.
 */
async function hostileBinance(idOf: (n: number) => number, rest: http.RequestListener): Promise<{ endpoint: string; close(): void }> {
  const server = http.createServer(rest);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    let n = 0;
    const t = setInterval(() => {
      const now = Date.now();
      ws.send(JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: now, s: 'BTCUSDT', t: idOf(n++), p: '60000.10', q: '0.01', T: now, m: true, M: true } }));
    }, 100);
    ws.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `binance=ws://127.0.0.1:${(server.address() as AddressInfo).port}/binance`,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

const json = (res: http.ServerResponse, body: unknown): void => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('a trade id far ahead of the last', () => {
  it('is a gap left flagged and said, not backfilled (one absurd id in a frame opened a gap of quadrillions, paged a thousand ids at a time)', async () => {
    let rest = 0;
    const binance = await hostileBinance((n) => (n === 4 ? 9e15 : 100 + n), (_req, res) => {
      rest++;
      json(res, []);
    });
    try {
      const rec = startCli(['record', '--duration', '3s', '--no-metrics', '--out', tmpDir(), '--exchanges', 'binance', '--symbols', 'BTC-USD', '--endpoint', binance.endpoint]);
      expect(await rec.exited, rec.stderr).toBe(0);
      expect(rec.stderr).toMatch(/backfill of binance BTCUSDT \d+\.\.8999999999999999 not tried: a gap of \d+ trades is more than the 100000 a backfill fetches; the gap stays flagged/);
      expect(rest, 'no page of that gap asked for').toBe(0);
    } finally {
      binance.close();
    }
  }, 60_000);
});

describe('a restart whose backfill the exchange never answers', () => {
  it('stops on Ctrl-C (nothing was committed and no stop heard until the backfill ended, which was never)', async () => {
    let hang = false;
    const binance = await hostileBinance((n) => 100 + n, (req, res) => {
      if (new URL(req.url!, 'http://x').pathname.endsWith('/api/v3/trades')) return json(res, [{ id: 1000, price: '60000', qty: '0.01', time: Date.now(), isBuyerMaker: true }]);
      // historicalTrades: never answered, once the first recording is in the archive.
      if (!hang) json(res, []);
    });
    const args = ['record', '--no-metrics', '--out', tmpDir(), '--exchanges', 'binance', '--symbols', 'BTC-USD', '--endpoint', binance.endpoint];
    try {
      const first = startCli([...args, '--duration', '2s']);
      expect(await first.exited, first.stderr).toBe(0);
      hang = true;
      const again = startCli(args);
      await again.waitFor(/restart: backfilling \d+ trades of binance BTCUSDT/);
      const t0 = Date.now();
      again.child.kill('SIGINT');
      const code = await Promise.race([again.exited, sleep(15_000).then(() => 'still running 15 s after Ctrl-C')]);
      if (again.child.exitCode === null) again.child.kill('SIGKILL');
      expect(code, again.stderr).toBe(0);
      expect(Date.now() - t0, 'well within the 20 s budget').toBeLessThan(12_000);
    } finally {
      binance.close();
    }
  }, 60_000);
});
