/**
 * Bitstamp WebSocket v2 adapter (protocols.md §5): a pure function of (LogEvent, BitstampState).
 *
 * - `trade` on `live_trades_<pair>`: exact `price_str`/`amount_str`, `type` = taker side,
 *   `microtimestamp` (µs; ms resolution in practice).
 * - `data` on `order_book_<pair>` (top 100): its best level is the best bid/offer.
 *   `diff_order_book_*` and `detail_order_book_*` are recognised, not read.
 * - Gaps: trade ids are global across pairs, so a jump on a live connection says nothing
 *   about one pair and no gap is inferred from it. Data may be missing only across a
 *   disconnect: after a `close`, a pair's first trade whose id is not the next after its last
 *   one opens a gap (reason `reconnect`, ids `last+1 .. new−1`: an upper bound on what is
 *   missing, since the ids are global), which the recorder asks the REST `transactions`
 *   backfill to fill; the pair's next transactions page closes it (`gap_filled`: the page
 *   holds every trade of the day). A transactions page before a pair's first live trade (a
 *   restart's backfill) counts as the pair's last trades before a disconnect. Ids are kept per pair to drop repeats: a backfill
 *   overlaps the live feed (there is no id cursor).
 * - `bts:request_reconnect` is a shutdown notice; `bts:heartbeat` answers ours.
 *
 * JSON.parse path only (no scanner yet).
 */
import type { LogEvent } from '../../log/event.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Status, type Trade } from '../../market/events.ts';
import {
  FrameError, SymbolClocks, checkId, checkPrice, checkSize, checkedQuote, exactId, gapEvent, guarded, isObject, num, origin, parseJson, parseObject,
  str, symbolOf,
} from '../common.ts';
import type { BitstampBook, BitstampTrade, BitstampTransaction } from './payloads.ts';

export interface BitstampState {
  readonly counts: DecodeCounts;
  /** Each pair's exchange−receive clock offset (common.ts, the limits table). */
  readonly clocks: SymbolClocks;
  /** Trade ids taken, per pair: a repeat (backfill overlap, a replayed frame) is dropped. */
  readonly seen: Map<string, Set<bigint>>;
  /** Newest live trade id per pair. */
  readonly newest: Map<string, bigint>;
  /** Pairs that traded before a disconnect and not since. */
  readonly doubted: Set<string>;
  /** Pairs with a live trade this session. */
  readonly live: Set<string>;
  /** Pairs with a reconnect gap open, until their next transactions page. */
  readonly refilling: Set<string>;
}

export function newBitstampState(): BitstampState {
  return { counts: newCounts(), clocks: new SymbolClocks(), seen: new Map(), newest: new Map(), doubted: new Set(), live: new Set(), refilling: new Set() };
}

const RECOGNISED = new Set(['diff_order_book', 'detail_order_book', 'live_orders', 'full_order_book']);

export function decodeBitstamp(ev: LogEvent, state: BitstampState): MarketEvent[] {
  if (ev.kind === 'rest') return decodeRest(ev, state);
  if (ev.kind === 'close') for (const pair of state.newest.keys()) state.doubted.add(pair);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseObject(ev.payload);
    const event = msg.event;
    const channel = typeof msg.channel === 'string' ? msg.channel : '';
    switch (event) {
      case 'trade':
        if (!isObject(msg.data)) throw new FrameError('trade without a data object');
        return afterReconnect(ev, state, liveTrade(ev, pairOf(channel, 'live_trades_'), msg.data as unknown as BitstampTrade, state));
      case 'data': {
        if (channel.startsWith('order_book_')) {
          if (!isObject(msg.data)) throw new FrameError('order book without a data object');
          return book(ev, pairOf(channel, 'order_book_'), msg.data as unknown as BitstampBook, state);
        }
        const kind = channel.replace(/_[a-z0-9]+$/, '');
        bump(RECOGNISED.has(kind) ? state.counts.recognised : state.counts.unknown, kind || 'data');
        return [];
      }
      case 'bts:subscription_succeeded':
        return [status(ev, 'subscribed', channel)];
      case 'bts:unsubscription_succeeded':
        bump(state.counts.recognised, event);
        return [];
      case 'bts:heartbeat':
        return [status(ev, 'heartbeat', ev.payload)];
      case 'bts:request_reconnect':
        return [status(ev, 'shutdown', ev.payload)];
      case 'bts:error':
        return [status(ev, 'error', isObject(msg.data) ? String(msg.data.message ?? ev.payload) : ev.payload)];
      default:
        bump(state.counts.unknown, typeof event === 'string' ? event : 'no-event');
        return [];
    }
  });
}

const status = (ev: LogEvent, s: Status['status'], detail: string): Status => ({ type: 'status', status: s, exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail });

function pairOf(channel: string, prefix: string): string {
  if (!channel.startsWith(prefix)) throw new FrameError(`channel ${JSON.stringify(channel)} is not ${prefix}<pair>`);
  return symbolOf(channel.slice(prefix.length), 'channel');
}

function liveTrade(ev: LogEvent, pair: string, d: BitstampTrade, state: BitstampState): Trade {
  const tradeId = exactId(d.id, ev.payload, 'id');
  const price = checkPrice(num(str(d.price_str, 'price_str'), 'price_str'), 'price_str');
  const size = checkSize(num(str(d.amount_str, 'amount_str'), 'amount_str'), 'amount_str');
  const tsUs = microUs(d.microtimestamp, 'microtimestamp');
  // `type` 0 = buy, 1 = sell: the taker's side (42/42 real trades, protocols.md §5).
  const side = d.type === 0 ? 'buy' : d.type === 1 ? 'sell' : undefined;
  if (side === undefined) throw new FrameError(`field type is not 0/1: ${JSON.stringify(d.type)}`);
  state.clocks.observe(pair, ev.recvNs, tsUs, 'microtimestamp');
  return { type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: pair, tradeId, price, size, side, tsUs };
}

/** A live trade, after the gap it shows when it is its pair's first since a disconnect and ids were skipped. */
function afterReconnect(ev: LogEvent, state: BitstampState, t: Trade): MarketEvent[] {
  state.live.add(t.symbol);
  const last = state.newest.get(t.symbol);
  if (last === undefined || t.tradeId > last) state.newest.set(t.symbol, t.tradeId);
  if (!state.doubted.delete(t.symbol) || last === undefined || t.tradeId <= last + 1n) return take(state, t);
  state.refilling.add(t.symbol);
  return [gapEvent(ev, t.symbol, { fromId: last + 1n, toId: t.tradeId - 1n }, 'reconnect'), ...take(state, t)];
}

/** Trades not taken before (by pair and id); repeats are counted as duplicates. */
function take(state: BitstampState, ...trades: Trade[]): MarketEvent[] {
  const out: Trade[] = [];
  for (const t of trades) {
    let seen = state.seen.get(t.symbol);
    if (seen === undefined) state.seen.set(t.symbol, (seen = new Set()));
    if (seen.has(t.tradeId)) state.counts.duplicates++;
    else {
      seen.add(t.tradeId);
      out.push(t);
    }
  }
  return out;
}

function book(ev: LogEvent, pair: string, d: BitstampBook, state: BitstampState): MarketEvent[] {
  if (!Array.isArray(d.bids) || !Array.isArray(d.asks)) throw new FrameError('order book without bids/asks arrays');
  const [b, a] = [d.bids[0], d.asks[0]];
  // An empty side has no best price: nothing to quote.
  if (!Array.isArray(b) || !Array.isArray(a)) {
    bump(state.counts.recognised, 'order_book (one side empty)');
    return [];
  }
  const tsUs = microUs(d.microtimestamp, 'microtimestamp');
  const q = checkedQuote(ev, pair, [b[0], 'bids'], [b[1], 'bids'], [a[0], 'asks'], [a[1], 'asks'], tsUs);
  state.clocks.observe(pair, ev.recvNs, tsUs, 'microtimestamp');
  return [q];
}

function microUs(v: unknown, field: string): number {
  const s = str(v, field);
  const n = /^\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) throw new FrameError(`field ${field} is not a time in µs: ${JSON.stringify(v)}`);
  return n;
}

/**
 * Trade backfill: `GET /api/v2/transactions/{pair}/?time=minute|hour|day` returns the
 * pair's trades newest first, all fields strings, `date` in seconds (protocols.md §5). Rows
 * are taken oldest first; the ones the live feed already gave are dropped by id.
 */
function decodeRest(ev: LogEvent, state: BitstampState): MarketEvent[] {
  const m = /\/api\/v2\/transactions\/([a-z0-9]+)\/?(?:\?|$)/.exec(ev.meta);
  if (!m) {
    bump(state.counts.recognised, /\/order_book\//.test(ev.meta) ? 'rest:order_book' : 'rest:other');
    return [];
  }
  return guarded(ev, () => {
    const pair = symbolOf(m[1], 'pair');
    const rows = parseJson(ev.payload);
    if (!Array.isArray(rows)) throw new FrameError('transactions body is not an array');
    const trades = rows.map((r): Trade => {
      if (!isObject(r)) throw new FrameError('transactions row is not an object');
      const t = r as unknown as BitstampTransaction;
      const idText = str(t.tid, 'tid');
      if (!/^\d{1,19}$/.test(idText)) throw new FrameError(`field tid is not an integer id: ${JSON.stringify(t.tid)}`);
      const dateText = str(t.date, 'date');
      if (!/^\d{1,12}$/.test(dateText)) throw new FrameError(`field date is not a time in seconds: ${JSON.stringify(t.date)}`);
      const tsUs = Number(dateText) * 1_000_000;
      state.clocks.check(pair, ev.recvNs, tsUs, 'date', true);
      const side = t.type === '0' ? 'buy' : t.type === '1' ? 'sell' : undefined;
      if (side === undefined) throw new FrameError(`field type is not "0"/"1": ${JSON.stringify(t.type)}`);
      return {
        type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: pair, tradeId: checkId(BigInt(idText), 'tid'),
        price: checkPrice(num(t.price, 'price'), 'price'), size: checkSize(num(t.amount, 'amount'), 'amount'), side, tsUs,
      };
    });
    trades.sort((a, b) => (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0));
    const taken = take(state, ...trades);
    const newest = trades.at(-1)?.tradeId;
    if (!state.live.has(pair) && newest !== undefined) {
      // A page before the pair's first live trade (a restart's backfill, as the session
      // opens) ends where the live feed is to start: the first live trade is checked
      // against it, as after a disconnect, so trades made in between are a gap to fill.
      if (newest > (state.newest.get(pair) ?? -1n)) state.newest.set(pair, newest);
      state.doubted.add(pair);
    }
    if (!state.refilling.delete(pair)) return taken;
    return [...taken, { type: 'gap_filled', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: pair }];
  });
}
