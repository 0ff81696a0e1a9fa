import type { CommandModule } from 'yargs';
import { startSimulator } from '../../replayer/simulator/server.ts';
import { parseDuration } from '../engine/config.ts';
import { SIMULATED } from '../exchanges/registry.ts';
import { parseExchanges } from './record.ts';
import { SPEED_RANGE, paceFactor } from './speed.ts';
import { parseSliceBound, type SliceBound } from '../../replayer/simulator/archive-feed.ts';
import { parseRate } from '../../replayer/simulator/flood.ts';
import { selfSignedCert } from '../../replayer/simulator/tls.ts';
import { listArchiveFiles } from '../storage/archive-read.ts';
import { UserError, aboveZero, checkPort, listenError, userInput } from './errors.ts';
import { boundHeapGrowth } from './heap-growth.ts';

interface Args { from?: string; speed: string; start?: string; end?: string; tls: boolean; exchanges: string; port: number; host: string; seed: number; 'mean-gap': number; rate?: string; 'ping-interval': string; 'disconnect-every'?: string; log?: string }

/**
 * How far the simulator's heap may grow past what it holds (heap-growth.ts): a flood makes
 * garbage fast (frames encoded and sent) and holds little. In the flood bench (`simulate
 * --rate 150k`, 20 s, alternating, 2026-11-24, quiet machine) V8's own policy peaked at
 * 266–427 MiB RSS, 150 % at 227–246 and 100 % at 248–255, each offering 150.1k frames/s,
 * lag ≤ 12 ms, nothing missed. TAPEDECK_SIMULATE_HEAP_GROWTH=<percent> sets it, 0 leaves V8's own.
 */
const SIMULATE_HEAP_GROWTH_PERCENT = 150;

export const simulateCommand: CommandModule<object, Args> = {
  command: 'simulate',
  describe: 'serve a seeded synthetic market over each exchange\'s real WebSocket protocol, on loopback',
  builder: (y) => y
    .option('exchanges', { type: 'string', default: 'binance,coinbase', describe: `exchanges to serve, any of ${SIMULATED.join(',')}` })
    .option('port', { type: 'number', default: 9100, describe: 'port (0: any free port)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (0.0.0.0: every interface)' })
    .option('seed', { type: 'number', default: 42, describe: 'seed of the synthetic market: the same seed serves the same trades and quotes' })
    .option('mean-gap', { type: 'number', default: 150, describe: 'mean ms between events per market (smaller: a busier market)' })
    .option('rate', { type: 'string', describe: 'flood mode: serve this many frames a second across all exchanges, e.g. 150k (overrides --mean-gap; a slow client misses frames, counted at GET /_stats)' })
    .option('ping-interval', { type: 'string', default: '20s', describe: 'server ping interval, for the protocols whose server pings its clients' })
    .option('disconnect-every', { type: 'string', describe: 'force a disconnect of every exchange this often, e.g. 30s' })
    .option('log', { type: 'string', describe: 'append every frame sent and trade made to this JSON-lines file' })
    .option('from', { type: 'string', describe: 're-serve this raw archive instead of the synthetic market' })
    .option('speed', { type: 'string', default: '1x', describe: `pace of a re-served archive: a factor from ${SPEED_RANGE.min}x to ${SPEED_RANGE.max}x (1x, 50x, …)` })
    .option('start', { type: 'string', describe: 'with --from: first receive time to serve (ISO-8601, or a time after the recording\'s first frame, e.g. 30s)' })
    .option('tls', { type: 'boolean', default: false, describe: 'serve https:// and wss:// with a self-signed certificate tapedeck makes (~/.tapedeck/tls; needs openssl)' })
    .option('end', { type: 'string', describe: 'with --from: receive time to stop before (ISO-8601, or e.g. 2m after the first frame)' }) as never,
  handler: async (a) => {
    boundHeapGrowth('TAPEDECK_SIMULATE_HEAP_GROWTH', SIMULATE_HEAP_GROWTH_PERCENT);
    const exchanges = parseExchanges(a.exchanges, SIMULATED);
    checkPort('--port', a.port);
    if (!(a['mean-gap'] > 0)) throw new UserError(`bad --mean-gap ${a['mean-gap']} (ms, above 0)`);
    const rate = a.rate !== undefined ? userInput(() => parseRate(a.rate!)) : undefined;
    if (rate !== undefined && a.from !== undefined) throw new UserError('--rate floods the synthetic market: it does not go with --from (use --speed)');
    const every = a['disconnect-every'] !== undefined ? aboveZero('--disconnect-every', a['disconnect-every'], userInput(() => parseDuration(a['disconnect-every']!))) : undefined;
    const speed = paceFactor(a.speed);
    if (a.from !== undefined) userInput(() => listArchiveFiles(a.from!));
    if (a.from === undefined && (a.start !== undefined || a.end !== undefined)) throw new UserError('--start and --end choose a slice of a recording: give --from');
    const slice = { ...(a.start !== undefined ? { start: sliceBound('--start', a.start) } : {}), ...(a.end !== undefined ? { end: sliceBound('--end', a.end) } : {}) };
    if (slice.start && slice.end && !before(slice.start, slice.end)) throw new UserError(`--start ${a.start} is not before --end ${a.end}: nothing to serve`);
    const pingIntervalMs = aboveZero('--ping-interval', a['ping-interval'], userInput(() => parseDuration(a['ping-interval'])));
    const tls = a.tls ? selfSignedCert(a.host) : undefined;
    const sim = await startSimulator({
      ...(a.from !== undefined ? { from: a.from, speed, slice } : {}),
      host: a.host, port: a.port, exchanges, seed: a.seed, meanGapMs: a['mean-gap'], ...(rate !== undefined ? { rate } : {}),
      // Each exchange's server takes the options it knows (src/sim/protocol.ts ProtocolOptions).
      protocols: Object.fromEntries(exchanges.map((x) => [x, { pingIntervalMs }])),
      ...(every ? { disconnectEveryMs: Object.fromEntries(exchanges.map((x) => [x, every])) } : {}),
      ...(a.log ? { logFile: a.log } : {}),
      ...(tls ? { tls } : {}),
    }).catch((err: unknown) => listenError(err, a.host, a.port, '--port/--host'));
    // Listening for the stop before printing the URLs: whoever reads them may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    for (const x of exchanges) process.stdout.write(`${x}: ${sim.wsUrl(x)}  (REST ${sim.restUrl(x)})\n`);
    // Named but absent from the recording (or its --start/--end part): its clients would wait for ever, unwarned.
    const part = a.start !== undefined || a.end !== undefined ? ' in the part --start/--end choose' : '';
    for (const x of sim.silent) process.stderr.write(`tapedeck: warning: ${a.from} holds no frame of ${x}${part}: ${sim.wsUrl(x)} will send nothing\n`);
    const base = `${tls ? 'https' : 'http'}://${sim.host}:${sim.port}`;
    if (rate !== undefined) process.stdout.write(`flood: ${rate.toLocaleString('en-US')} frames/s across ${exchanges.join(',')}; counters: GET ${base}/_stats\n`);
    process.stdout.write(`control: POST ${base}/_control {"action":"disconnect|drop|malformed|unknown|stall|refuse","exchange":…}\n`);
    if (a.from !== undefined) {
      process.stdout.write(`playback: POST ${base}/_control {"action":"pause|resume"} or {"action":"speed","speed":5} or {"action":"seek","at":"30s"}\n`);
      process.stdout.write(`HTTP replay: GET ${base}/replay?exchange=${exchanges[0]}  (NDJSON; /replay-normalized for trades and quotes)\n`);
    }
    if (tls) {
      process.stdout.write(`TLS: self-signed certificate ${tls.certPath}; trust it with NODE_EXTRA_CA_CERTS=${tls.certPath} (Node clients, ccxt), curl --cacert ${tls.certPath}, or SSL_CERT_FILE=${tls.certPath} (Python)\n`);
    }
    process.stdout.write(`record from it: tapedeck record ${exchanges.map((x) => `--endpoint ${x}=${sim.wsUrl(x)}`).join(' ')}\n`);
    await stopped;
    // A stop never waits on a slow client: whatever close() has not done in a second is dropped.
    await Promise.race([sim.close(), new Promise<void>((r) => setTimeout(r, 800).unref())]);
    process.exit(0);
  },
};

/** `--start`/`--end`: `30s` (after the recording's first frame) or an ISO-8601 receive time. */
function sliceBound(flag: string, text: string): SliceBound {
  return userInput(() => {
    try {
      return parseSliceBound(text);
    } catch (err) {
      throw new Error(`bad ${flag}: ${(err as Error).message}`);
    }
  });
}

/** Whether bound `a` is before `b`, when both are of one kind (a time, or a time after the first frame); else true (the archive decides). */
function before(a: SliceBound, b: SliceBound): boolean {
  if ('atNs' in a && 'atNs' in b) return a.atNs < b.atNs;
  if ('afterMs' in a && 'afterMs' in b) return a.afterMs < b.afterMs;
  return true;
}
