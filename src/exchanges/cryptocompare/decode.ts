/**
 * CryptoCompare streamer v2 adapter (protocols.md §5b): a pure function of (LogEvent, CcState).
 * Only tested against the published spec: no real capture exists.
 *
 * - One socket carries many markets: each market `M` is a venue of its own. Market events
 *   name the exchange `cryptocompare:<M>` (e.g. `cryptocompare:Coinbase`) and the symbol
 *   `<M>~<FSYM>~<TSYM>` (the subscription without its channel), so candles, arbitrage and
 *   fees see one venue per market.
 * - Trade (`TYPE` "0"): `P`/`Q` read from the frame's own number text, `TS` seconds
 *   (+ `TSNS` ns where the market sends it) → `tsUs` (1 s resolution without `TSNS`), `ID` →
 *   tradeId when it is an integer (else 0; repeats are still found by its text). `F` is the
 *   taker side: &1 sell, &2 buy; a trade flagged neither (&4 unknown) has no taker side and
 *   is counted (`recognised["trade (side unknown)"]`), not taken; both bits is a decode error.
 * - Repeats: every subscribe replays the market's last 20 trades, so a reconnect resends
 *   what was taken: trades are de-duplicated by (M, FSYM, TSYM, ID) (the newest
 *   `SEEN_PER_MARKET` ids of each market are kept).
 * - One replay is one instant: the trades a subscription (a `SubAdd` the recorder sent)
 *   replays, up to its `16` SUBSCRIBECOMPLETE, are given out together with that ack, as
 *   one event, like a snapshot: frame by frame, a pair's first new trade after a reconnect
 *   would end its doubt and close the windows its next replayed trades belong to. Also
 *   given out at `3` LOADCOMPLETE, an error naming the subscription, a close, and past
 *   `REPLAYED_TRADES` (more than a replay holds: live trades).
 * - Gaps: `CCSEQ` (per market and pair, only on some markets) jumping past the next number
 *   is a gap of the missing sequence numbers (reason `ccseq`); a later trade carrying a
 *   missing number fills it. Markets without `CCSEQ` show no gaps.
 * - Top of book (`TYPE` "30"): the first frame has both sides, later ones one side; the
 *   adapter keeps both and gives a quote once it has each.
 * - Control frames are status events, never decode errors: 20 welcome, 16 subscribe
 *   complete, 3 load complete, 999 heartbeat, 401/429/500 errors (500 `FORCE_DISCONNECT`: a
 *   shutdown); 17/18 (unsubscribe complete) and the channels tapedeck does not read are counted.
 */
import type { LogEvent } from '../../log/event.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Status } from '../../market/events.ts';
import {
  FrameError, SymbolClocks, TradeIdTracker, checkId, checkPrice, checkQuoteSize, checkSize, emitQuote, gapEvent, guarded, isObject, num, origin,
  parseObject, str, symbolOf,
} from '../common.ts';
import type { CcLevel, CcTopOfBook, CcTrade } from './payloads.ts';

/** Trade ids remembered per market: far more than the 20 a subscribe replays. */
export const SEEN_PER_MARKET = 1_000;

/** Trades a subscribe replays (the documented count). */
export const REPLAYED_TRADES = 20;

export interface CcState {
  readonly counts: DecodeCounts;
  readonly clocks: SymbolClocks;
  /** Per market (`M~FSYM~TSYM`): the ids taken, newest last, at most SEEN_PER_MARKET. */
  readonly seen: Map<string, { ids: Set<string>; order: string[] }>;
  /** CCSEQ continuity per market. */
  readonly seqs: TradeIdTracker;
  /** Best bid and ask per market, as the last top-of-book frames left them. */
  readonly books: Map<string, { bid?: CcLevel; ask?: CcLevel }>;
  /** Per market whose trade subscription was sent and not yet acknowledged: what its replay gave so far. */
  readonly replaying: Map<string, MarketEvent[]>;
}

export function newCcState(): CcState {
  return { counts: newCounts(), clocks: new SymbolClocks(), seen: new Map(), seqs: new TradeIdTracker(), books: new Map(), replaying: new Map() };
}

/** Channels tapedeck recognises and does not read. */
const RECOGNISED: Record<string, string> = {
  2: 'ticker', 5: 'cccagg', 8: 'orderbook l2 update', 9: 'orderbook l2 snapshot', 11: 'full volume', 17: 'unsubscribe complete',
  18: 'unsubscribe all complete', 21: 'top tier full volume', 24: 'ohlc',
};

export function decodeCryptoCompare(ev: LogEvent, state: CcState): MarketEvent[] {
  if (ev.kind === 'sent') {
    subscribed(ev.payload, state);
    return [];
  }
  if (ev.kind === 'close') return replayed(state, [...state.replaying.keys()]);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseObject(ev.payload);
    const type = msg.TYPE;
    const message = typeof msg.MESSAGE === 'string' ? msg.MESSAGE : '';
    switch (type) {
      case '0':
        return held(state, trade(ev, msg as unknown as CcTrade, state));
      case '30':
        return topOfBook(ev, msg as unknown as CcTopOfBook, state);
      case '20':
        return [status(ev, 'system', `welcome ${typeof msg.SERVER_NAME === 'string' ? msg.SERVER_NAME : ''}`.trim())];
      case '16':
        return [...replayed(state, [subscription(msg.SUB)]), status(ev, 'subscribed', typeof msg.SUB === 'string' ? msg.SUB : message)];
      case '3':
        return [...replayed(state, [...state.replaying.keys()]), status(ev, 'system', message || 'LOADCOMPLETE')];
      case '999':
        return [status(ev, 'heartbeat', ev.payload)];
      case '500':
        return [...replayed(state, [subscription(msg.PARAMETER)]), status(ev, message === 'FORCE_DISCONNECT' ? 'shutdown' : 'error', ev.payload)];
      case '401':
      case '429':
        return [...replayed(state, [subscription(msg.PARAMETER)]), status(ev, 'error', ev.payload)];
      default:
        if (typeof type === 'string' && Object.hasOwn(RECOGNISED, type)) bump(state.counts.recognised, RECOGNISED[type]!);
        else bump(state.counts.unknown, typeof type === 'string' ? `TYPE ${type.slice(0, 20)}` : 'no-TYPE');
        return [];
    }
  });
}

/** The market of a trade subscription (`0~Coinbase~BTC~USD` → `Coinbase~BTC~USD`), or '' for anything else. */
function subscription(sub: unknown): string {
  return typeof sub === 'string' && sub.startsWith('0~') ? sub.slice(2) : '';
}

/** A `SubAdd` the recorder sent: each trade subscription's replay is held until its ack. */
function subscribed(payload: string, state: CcState): void {
  let msg: { action?: unknown; subs?: unknown };
  try {
    msg = JSON.parse(payload) as typeof msg;
  } catch {
    return;
  }
  if (msg.action !== 'SubAdd' || !Array.isArray(msg.subs)) return;
  for (const sub of msg.subs) {
    const market = subscription(sub);
    if (market !== '' && !state.replaying.has(market)) state.replaying.set(market, []);
  }
}

/** A trade frame's events, held while its market's replay runs (given out past REPLAYED_TRADES, with what was held). */
function held(state: CcState, out: MarketEvent[]): MarketEvent[] {
  const t = out.find((m) => m.type !== 'decode_error');
  const hold = t === undefined ? undefined : state.replaying.get((t as { symbol: string }).symbol);
  if (hold === undefined) return out;
  hold.push(...out);
  return hold.filter((m) => m.type === 'trade').length > REPLAYED_TRADES ? replayed(state, [(t as { symbol: string }).symbol]) : [];
}

/** What these markets' replays held, given out now; their replays are over. */
function replayed(state: CcState, markets: readonly string[]): MarketEvent[] {
  const out: MarketEvent[] = [];
  for (const m of markets) {
    const hold = state.replaying.get(m);
    if (hold === undefined) continue;
    state.replaying.delete(m);
    out.push(...hold);
  }
  return out;
}

const status = (ev: LogEvent, s: Status['status'], detail: string): Status => ({ type: 'status', status: s, exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail });

/** The venue and the symbol of a market frame: `cryptocompare:Coinbase`, `Coinbase~BTC~USD`. */
function marketOf(ev: LogEvent, m: { M: unknown; FSYM: unknown; TSYM: unknown }): { venue: string; symbol: string } {
  const market = symbolOf(m.M, 'M');
  if (market.includes('~') || market.includes(':')) throw new FrameError(`field M is not a market name: ${JSON.stringify(market)}`);
  return { venue: `${ev.exchange}:${market}`, symbol: symbolOf(`${market}~${str(m.FSYM, 'FSYM')}~${str(m.TSYM, 'TSYM')}`, 'M~FSYM~TSYM') };
}

/** A JSON number's text as the frame printed it (the first `"field":` in the payload), read exactly. */
function numberText(payload: string, field: string): number {
  const m = new RegExp(`"${field}":\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)[,}]`).exec(payload);
  if (!m) throw new FrameError(`field ${field} is not a number`);
  return num(m[1], field);
}

/** A non-negative safe integer (`what` names it in the error). */
function whole(v: unknown, field: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new FrameError(`field ${field} is not ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** `TS` (+ `TSNS`) → µs. */
function tradeUs(t: CcTrade): number {
  const s = whole(t.TS, 'TS', 'a time in seconds');
  if (t.TSNS === undefined) return s * 1_000_000;
  if (typeof t.TSNS !== 'number' || !Number.isInteger(t.TSNS) || t.TSNS < 0 || t.TSNS > 999_999_999) throw new FrameError(`field TSNS is not a ns part: ${JSON.stringify(t.TSNS)}`);
  return s * 1_000_000 + Math.floor(t.TSNS / 1000);
}

function trade(ev: LogEvent, t: CcTrade, state: CcState): MarketEvent[] {
  const { venue, symbol } = marketOf(ev, t);
  const idText = typeof t.ID === 'number' && Number.isSafeInteger(t.ID) ? String(t.ID) : str(t.ID, 'ID');
  const flags = /^\d{1,3}$/.test(String(t.F)) ? Number(t.F) : NaN;
  if (!Number.isInteger(flags)) throw new FrameError(`field F is not a flag mask: ${JSON.stringify(t.F)}`);
  if ((flags & 3) === 3) throw new FrameError(`field F says both buy and sell: ${t.F}`);
  const price = checkPrice(numberText(ev.payload, 'P'), 'P');
  const size = checkSize(numberText(ev.payload, 'Q'), 'Q');
  const tsUs = tradeUs(t);
  const seq = t.CCSEQ === undefined ? undefined : checkId(BigInt(whole(t.CCSEQ, 'CCSEQ', 'a sequence number')), 'CCSEQ');
  state.clocks.observe(symbol, ev.recvNs, tsUs, 'TS');
  if (!remember(state, symbol, idText)) {
    state.counts.duplicates++;
    return [];
  }
  const side = flags & 1 ? 'sell' : flags & 2 ? 'buy' : undefined;
  const at = { ...ev, exchange: venue };
  const c = seq === undefined ? undefined : state.seqs.observe(symbol, seq);
  // A gap comes before the trade that revealed it, a fill after the trade that closed it.
  const before: MarketEvent[] = c?.kind === 'gap' ? [gapEvent(at, symbol, c, 'ccseq')] : [];
  const after: MarketEvent[] = c?.kind === 'fill' && c.closed ? [{ type: 'gap_filled', exchange: venue, recvNs: ev.recvNs, at: origin(ev), symbol }] : [];
  if (side === undefined) {
    bump(state.counts.recognised, 'trade (side unknown)');
    return [...before, ...after];
  }
  const tradeId = /^\d{1,19}$/.test(idText) && BigInt(idText) < 2n ** 63n ? BigInt(idText) : 0n;
  return [...before, { type: 'trade', exchange: venue, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId, price, size, side, tsUs }, ...after];
}

/** Takes `id` for the market; false when it was taken already (a replayed trade). */
function remember(state: CcState, symbol: string, id: string): boolean {
  let s = state.seen.get(symbol);
  if (s === undefined) state.seen.set(symbol, (s = { ids: new Set(), order: [] }));
  if (s.ids.has(id)) return false;
  s.ids.add(id);
  s.order.push(id);
  if (s.order.length > SEEN_PER_MARKET) s.ids.delete(s.order.shift()!);
  return true;
}

function level(v: unknown, field: string): CcLevel | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new FrameError(`field ${field} is not a list`);
  const l: unknown = v[0];
  if (l === undefined) return undefined;
  if (!isObject(l)) throw new FrameError(`field ${field} holds a level that is not an object`);
  return { P: checkPrice(num(l.P, `${field}.P`), `${field}.P`), Q: checkQuoteSize(num(l.Q, `${field}.Q`), `${field}.Q`), ...(l.REPORTEDNS !== undefined ? { REPORTEDNS: l.REPORTEDNS as string } : {}) };
}

function reportedUs(l: CcLevel | undefined): number | undefined {
  const t = l?.REPORTEDNS;
  if (t === undefined) return undefined;
  const s = String(t);
  if (!/^\d{1,19}$/.test(s)) throw new FrameError(`field REPORTEDNS is not a time in ns: ${JSON.stringify(t)}`);
  return Number(BigInt(s) / 1000n);
}

function topOfBook(ev: LogEvent, b: CcTopOfBook, state: CcState): MarketEvent[] {
  const { venue, symbol } = marketOf(ev, b);
  const bid = level(b.BID, 'BID');
  const ask = level(b.ASK, 'ASK');
  const tsUs = reportedUs(bid) ?? reportedUs(ask);
  let book = state.books.get(symbol);
  if (book === undefined) state.books.set(symbol, (book = {}));
  const next = { bid: bid ?? book.bid, ask: ask ?? book.ask };
  if (next.bid === undefined || next.ask === undefined) {
    Object.assign(book, next);
    bump(state.counts.recognised, 'top of book (one side so far)');
    return [];
  }
  const out = emitQuote({ ...ev, exchange: venue }, state.clocks, 'REPORTEDNS', symbol, next.bid.P, next.bid.Q, next.ask.P, next.ask.Q, tsUs);
  Object.assign(book, next);
  return out;
}
