/**
 * `tapedeck simulate`: a loopback server that speaks each supported exchange's real public
 * protocol, fed by the seeded synthetic market in real time, or re-serving a recording
 * (the replay façade: unmodified exchange clients can consume an archive). One port serves
 * them all:
 *
 *   ws://HOST:PORT/<exchange>/…        each exchange's WebSocket protocol (its spec's `sim.server` names the paths)
 *   http://HOST:PORT/<exchange>/…      its REST routes (trades, markets, book, candles)
 *   POST http://HOST:PORT/_control {"action":…,"exchange":…}          fault injection
 *   POST http://HOST:PORT/_control {"action":"pause|resume|speed|seek"}  a recording's playback clock (replays.ts)
 *   GET http://HOST:PORT/replay?exchange=…, /replay-normalized       tardis-machine's HTTP replay API (http-replay.ts)
 *   GET http://HOST:PORT/_stats                                       flood mode's counters and the process's RSS (flood.ts)
 *
 * (https:// and wss:// with `tls`.)
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_ASSETS, type SimEvent, type SimTrade } from '../../src/sim/market.ts';
import { FrameEncoder } from '../../src/sim/frames.ts';
import { loadSimServers } from '../../src/exchanges/registry.ts';
import type { ProtocolOptions, SimProtocol } from '../../src/sim/protocol.ts';
import type { ConnContext, SentFrame, SimConnection, SimTimers } from '../../src/sim/connection.ts';
import { HttpRefusal } from '../../src/sim/http-refusal.ts';
import { FLOOD_BACKLOG_BYTES, FLOOD_KEEP_TRADES, FloodTallies, meanGapForRate, sendRound, type FloodStats } from './flood.ts';
import { ArchiveFeed, type Slice } from './archive-feed.ts';
import { Replays } from './replays.ts';
import { replayRequest, serveReplay } from './http-replay.ts';
import { MarketFeed, type TradeLog } from '../../src/sim/feed.ts';
import { Faults, parseControl, type ControlCommand } from './hooks.ts';
import { checkControlOrigin, readBody, requestUrl } from './http-guard.ts';

export interface SimulatorOptions {
  /** Each exchange's protocol options by its id (`{ <x>: { pingIntervalMs: 200 } }`); its server's defaults fill the rest. */
  readonly protocols?: Readonly<Record<string, ProtocolOptions>>;
  readonly host?: string;
  readonly port?: number;
  readonly exchanges: readonly string[];
  readonly seed: number;
  readonly meanGapMs?: number;
  /** Flood mode (flood.ts): this many frames a second across all exchanges; overrides meanGapMs. */
  readonly rate?: number;
  /** Flood mode: unsent bytes a connection may hold before it misses frames (default FLOOD_BACKLOG_BYTES). */
  readonly floodBacklogBytes?: number;
  /** Close every connection of an exchange on this schedule, ms. */
  readonly disconnectEveryMs?: Readonly<Record<string, number>>;
  /** Append every frame sent and every trade made, as JSON lines, to this file. */
  readonly logFile?: string;
  /** Keep every frame sent in memory (tests). */
  readonly keepSent?: boolean;
  /** Re-serve this recording (a raw archive) instead of the synthetic market. */
  readonly from?: string;
  /** Pace of a re-served recording (1 = as recorded). */
  readonly speed?: number;
  /** The part of the recording to re-serve (default: all of it). */
  readonly slice?: Slice;
  /** Serve `https://` and `wss://` with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface Simulator {
  readonly port: number;
  readonly host: string;
  /** Base WebSocket URL of an exchange, e.g. ws://127.0.0.1:4321/<x>. */
  wsUrl(exchange: string): string;
  /** Base REST URL of an exchange. */
  restUrl(exchange: string): string;
  control(cmd: ControlCommand): void;
  readonly feed: TradeLog;
  /** For a re-served recording: whether some playback has reached the slice's end. */
  readonly finished: () => boolean;
  /** For a re-served recording: the exchanges asked for whose part of it holds no frame (their WebSocket endpoints send nothing). */
  readonly silent: readonly string[];
  readonly sent: SentFrame[];
  /** Every trade made so far on an exchange, in time order. */
  trades(exchange: string): SimTrade[];
  /** Flood mode's counters so far (undefined unless `rate` was given). */
  floodStats(): FloodStats | undefined;
  close(): Promise<void>;
}

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const host = o.host ?? '127.0.0.1';
  const servers = await loadSimServers();
  /** The protocol server of a URL's first part, or undefined for a name the simulator does not speak. */
  const simServer = (exchange: string): SimProtocol | undefined => servers.get(exchange);
  const nowMs = (): number => performance.timeOrigin + performance.now();
  const meanGapMs = o.rate !== undefined ? meanGapForRate(o.rate, o.exchanges.length * DEFAULT_ASSETS.length) : o.meanGapMs;
  const synthetic = o.from === undefined
    ? new MarketFeed({ seed: o.seed, startMs: Math.floor(nowMs()), exchanges: o.exchanges, ...(meanGapMs ? { meanGapMs } : {}) }, o.rate !== undefined ? FLOOD_KEEP_TRADES : undefined)
    : undefined;
  const recorded = o.from !== undefined
    ? await ArchiveFeed.load(o.from, o.exchanges, o.slice ?? {}, simServer)
    : undefined;
  const replays = recorded && new Replays(recorded, o.speed ?? 1, nowMs);
  const feed: TradeLog = synthetic ?? recorded!;
  const faults = new Map(o.exchanges.map((x) => [x, new Faults()]));
  const conns = new Set<SimConnection>();
  const sent: SentFrame[] = [];
  const log = o.logFile ? fs.createWriteStream(o.logFile, { flags: 'a' }) : undefined;
  const tallies = o.rate !== undefined && synthetic ? new FloodTallies(o.exchanges) : undefined;
  const onSent = o.keepSent || log ? (f: SentFrame): void => {
    if (o.keepSent) sent.push(f);
    log?.write(`{"sent":{"t_ns":"${f.tNs}","exchange":"${f.exchange}","conn":${f.conn},"payload":${JSON.stringify(f.payload)}}}\n`);
  } : undefined;
  const timers: SimTimers = {
    every: (ms, fn) => {
      const t = setInterval(fn, ms);
      return () => clearInterval(t);
    },
    after: (ms, fn) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
  const ctxFor = (x: string): ConnContext => ({
    faults: faults.get(x)!,
    nowMs,
    timers,
    ...(onSent ? { onSent } : {}),
    ...(tallies ? { flood: { backlogBytes: o.floodBacklogBytes ?? FLOOD_BACKLOG_BYTES, tally: tallies.of(x) } } : {}),
    ...(replays ? { recording: replays } : {}),
  });
  const floodStats = (): FloodStats | undefined => tallies?.stats(synthetic!.lagUs(Math.floor(nowMs() * 1000)) / 1000);

  // The market pump: every 10 ms, release what is due and send it to whoever listens.
  const encoder = new FrameEncoder();
  // Each round has a time budget: a market busier than this machine can serve falls behind
  // (what is due waits for the next round) instead of holding the event loop, which would
  // starve sockets and signals (SIGTERM was ignored for minutes).
  const PUMP_BUDGET_MS = 25;
  const pump = setInterval(() => {
    const until = performance.now() + PUMP_BUDGET_MS;
    if (synthetic && tallies) floodRound(synthetic, until);
    else if (synthetic) {
      for (const e of synthetic.due(Math.floor(nowMs() * 1000))) {
        if (admit(e)) {
          const payload = encoder.encode(e);
          for (const c of conns) if (c.exchange === e.exchange) c.onMarket(e, payload);
        }
        if (performance.now() > until) break;
      }
    }
    replays?.round(until, (c, f) => {
      const fault = faults.get(f.exchange)!;
      if (fault.dropTrades > 0 && simServer(f.exchange)?.isTrade(f.payload)) fault.dropTrades--;
      else c.onRecorded(f);
    });
  }, 10);
  /** Logs a trade; false when the `drop` fault eats it. */
  function admit(e: SimEvent): boolean {
    const f = faults.get(e.exchange)!;
    if (e.kind === 'trade') log?.write(`{"trade":${JSON.stringify(e)}}\n`);
    if (e.kind === 'trade' && f.dropTrades > 0) {
      f.dropTrades--;
      return false;
    }
    return true;
  }
  /** Flood mode: encode what is due (within half the round's budget), then one corked batch per connection. */
  function floodRound(market: MarketFeed, until: number): void {
    const events: SimEvent[] = [];
    const payloads: string[] = [];
    const encodeUntil = until - PUMP_BUDGET_MS / 2;
    for (const e of market.due(Math.floor(nowMs() * 1000))) {
      if (admit(e)) {
        events.push(e);
        payloads.push(encoder.encode(e));
      }
      if ((events.length & 255) === 0 && performance.now() > encodeUntil) break;
    }
    sendRound(events, payloads, conns);
  }

  let port = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpRefusal ? err.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: (err as Error).message }));
    });
  };
  const server = o.tls
    ? https.createServer({ maxHeaderSize: 16 * 1024, cert: o.tls.cert, key: o.tls.key }, handler)
    : http.createServer({ maxHeaderSize: 16 * 1024 }, handler);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  // Real exchanges cap a client message at a few KiB; 64 KiB is plenty for any subscribe.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = requestUrl(req, host);
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const exchange = url.pathname.split('/')[1] ?? '';
    const f = faults.get(exchange);
    const protocol = simServer(exchange);
    if (f === undefined || protocol === undefined || !protocol.accepts(url)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (f.refused(nowMs())) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const c: SimConnection = protocol.connect(ws, ctxFor(exchange), url, feed, o.protocols?.[exchange] ?? {});
      conns.add(c);
      ws.on('close', () => {
        conns.delete(c);
        replays?.forget(c);
      });
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = requestUrl(req, host);
    const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    if (url.pathname === '/_control') {
      if (req.method !== 'POST') return reply(405, '{"error":"POST only"}', { allow: 'POST' });
      checkControlOrigin(req, host, port);
      const body = await readBody(req, 16 * 1024);
      let cmd: ControlCommand;
      try {
        cmd = parseControl(JSON.parse(body));
        control(cmd);
      } catch (err) {
        throw new HttpRefusal(400, (err as Error).message);
      }
      return reply(200, '{"ok":true}');
    }
    if (url.pathname === '/_stats' && req.method === 'GET') {
      return reply(200, JSON.stringify({ flood: floodStats() ?? null, rssBytes: process.memoryUsage.rss() }));
    }
    if (recorded && replays && req.method === 'GET' && (url.pathname === '/replay' || url.pathname === '/replay-normalized')) {
      return serveReplay(replayRequest(url, recorded, o.exchanges, (x, s) => simServer(x)!.symbolOf(s)), res, replays.clock, nowMs);
    }
    const exchange = url.pathname.split('/')[1] ?? '';
    const r = req.method === 'GET' ? simServer(exchange)?.rest(url.pathname, url.searchParams, { feed, recording: recorded, serverTimeMs: serverTimeMs() }) : undefined;
    if (r !== undefined) return reply(r.status, r.body, r.headers);
    reply(404, '{"message":"NotFound"}');
  }

  /** The time a REST reply carries: the replay's present when re-serving a recording, else the wall clock's. */
  function serverTimeMs(): number {
    return recorded ? Number(recorded.nowNs / 1_000_000n) : Date.now();
  }

  function control(cmd: ControlCommand): void {
    if (!('exchange' in cmd)) {
      if (replays === undefined) throw new Error(`${cmd.action} is for a re-served recording (simulate --from)`);
      return replays.control(cmd);
    }
    const f = faults.get(cmd.exchange);
    if (f === undefined) throw new Error(`unknown exchange ${cmd.exchange}`);
    const mine = [...conns].filter((c) => c.exchange === cmd.exchange);
    switch (cmd.action) {
      case 'disconnect':
        for (const c of mine) {
          if (cmd.mode === 'shutdown') c.shutdown();
          else c.close(cmd.mode === 'terminate' ? 'terminate' : 'close');
        }
        return;
      case 'drop':
        f.dropTrades += cmd.count ?? 1;
        return;
      case 'malformed':
        for (const c of mine) for (let i = 0; i < (cmd.count ?? 1); i++) c.send(c.malformed());
        return;
      case 'unknown':
        for (const c of mine) for (let i = 0; i < (cmd.count ?? 1); i++) c.send(c.unknown());
        return;
      case 'stall':
        f.stalledUntilMs = nowMs() + cmd.ms;
        return;
      case 'refuse':
        f.refusedUntilMs = nowMs() + cmd.ms;
    }
  }

  const schedules = Object.entries(o.disconnectEveryMs ?? {}).map(([exchange, ms]) =>
    setInterval(() => control({ action: 'disconnect', exchange }), ms));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, resolve);
  });
  port = (server.address() as AddressInfo).port;
  return {
    port, host, feed, sent, finished: () => replays?.finished ?? false,
    silent: recorded?.silent ?? [],
    wsUrl: (x) => `${o.tls ? 'wss' : 'ws'}://${host}:${port}/${x}`,
    restUrl: (x) => `${o.tls ? 'https' : 'http'}://${host}:${port}/${x}`,
    control, floodStats,
    trades: (x) => feed.exchangeTrades(x),
    async close() {
      clearInterval(pump);
      for (const s of schedules) clearInterval(s);
      for (const c of conns) c.close('terminate');
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets would hold close() open for seconds.
      server.closeAllConnections();
      await closed;
      await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    },
  };
}
