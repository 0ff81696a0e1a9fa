/**
 * Cross-exchange arbitrage on best bid/offer. For every asset quoted on two or more
 * exchanges and every ordered pair (buy on A at A's ask, sell on B at B's bid):
 *
 *   net edge = (bid_B · (1 − fee_B) − ask_A · (1 + fee_A)) / ask_A
 *
 * An opportunity is open while the net edge is at least the minimum and neither quote is
 * older than the staleness limit (ages in recorded receive time). One `start` row when it
 * opens and one `end` row when it closes, never one per quote.
 *
 * Per quote this costs a few multiplications per exchange pair: a row is built only when
 * an opportunity starts or ends.
 */
import type { Origin, Quote } from '../market/events.ts';
import type { ArbitrageConfig } from './config.ts';
import type { ArbitrageRow } from './rows.ts';

/** An exchange's latest quote for an asset, updated in place. */
interface Book {
  readonly exchange: string;
  symbol: string;
  bid: number;
  ask: number;
  recvNs: bigint;
  /** Taker fee as a fraction. */
  readonly fee: number;
  /** Scratch: age at the current evaluation, ms. */
  age: number;
  /** Open opportunities buying here, by the selling exchange. */
  readonly openAsBuyer: Map<string, Open>;
}

interface Open {
  readonly start: ArbitrageRow;
  peak: number;
}

interface AssetBooks {
  readonly asset: string;
  /** Sorted by exchange. */
  readonly list: Book[];
  open: number;
}

const BPS = 10_000;
const NONE: ArbitrageRow[] = [];

export class ArbitrageDetector {
  private readonly assets = new Map<string, AssetBooks>();
  /** Assets with an open opportunity, sorted. */
  private openAssets: AssetBooks[] = [];

  constructor(private readonly cfg: ArbitrageConfig) {}

  /** Whether any opportunity is open (then time passing can end one). */
  get hasOpen(): boolean {
    return this.openAssets.length > 0;
  }

  onQuote(q: Quote, asset: string): ArbitrageRow[] {
    let a = this.assets.get(asset);
    if (a === undefined) this.assets.set(asset, (a = { asset, list: [], open: 0 }));
    let book = a.list.find((b) => b.exchange === q.exchange);
    if (book === undefined) {
      book = {
        exchange: q.exchange, symbol: q.symbol, bid: q.bid, ask: q.ask, recvNs: q.recvNs,
        fee: (this.cfg.feesBps[q.exchange] ?? this.cfg.defaultFeeBps) / BPS, age: 0, openAsBuyer: new Map(),
      };
      a.list.push(book);
      a.list.sort((x, y) => (x.exchange < y.exchange ? -1 : 1));
    } else {
      book.symbol = q.symbol;
      book.bid = q.bid;
      book.ask = q.ask;
      book.recvNs = q.recvNs;
    }
    if (a.list.length < 2) return NONE;
    return this.evaluate(a, q.recvNs, q.at, undefined) ?? NONE;
  }

  /** Time passed (a tick or any event): opportunities whose quotes went stale end. */
  onTime(nowNs: bigint, at: Origin): ArbitrageRow[] {
    if (this.openAssets.length === 0) return NONE;
    let out: ArbitrageRow[] | undefined;
    for (const a of [...this.openAssets]) out = this.evaluate(a, nowNs, at, out);
    return out ?? NONE;
  }

  /** End of input: every open opportunity ends with reason `eof`. */
  finish(nowNs: bigint, at: Origin): ArbitrageRow[] {
    const open: [string, AssetBooks, Book, string, Open][] = [];
    for (const a of this.assets.values()) {
      for (const buy of a.list) for (const [sell, o] of buy.openAsBuyer) open.push([`${a.asset}|${buy.exchange}|${sell}`, a, buy, sell, o]);
    }
    open.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    return open.map(([, a, buy, sell, o]) => this.end(a, buy, sell, o, nowNs, at, 'eof', undefined));
  }

  private evaluate(a: AssetBooks, nowNs: bigint, at: Origin, out: ArbitrageRow[] | undefined): ArbitrageRow[] | undefined {
    const list = a.list;
    const staleMs = this.cfg.stalenessMs;
    for (const b of list) b.age = ageMs(nowNs, b.recvNs);
    for (const buy of list) {
      for (const sell of list) {
        if (buy === sell) continue;
        const isOpen = buy.openAsBuyer.get(sell.exchange);
        const stale = buy.age > staleMs || sell.age > staleMs;
        const net = netEdgeBps(buy, sell);
        const clears = !stale && net >= this.cfg.minEdgeBps;
        if (clears && isOpen === undefined) {
          const row = this.measure(a.asset, buy, sell, nowNs, at);
          buy.openAsBuyer.set(sell.exchange, { start: row, peak: net });
          if (a.open++ === 0) this.openAssets = [...this.openAssets, a].sort((x, y) => (x.asset < y.asset ? -1 : 1));
          (out ??= []).push(row);
        } else if (clears && isOpen !== undefined) {
          if (net > isOpen.peak) isOpen.peak = net;
        } else if (!clears && isOpen !== undefined) {
          (out ??= []).push(this.end(a, buy, sell.exchange, isOpen, nowNs, at, stale ? 'stale' : 'edge', this.measure(a.asset, buy, sell, nowNs, at)));
        }
      }
    }
    return out;
  }

  private measure(asset: string, buy: Book, sell: Book, nowNs: bigint, at: Origin): ArbitrageRow {
    const gross = ((sell.bid - buy.ask) / buy.ask) * BPS;
    const net = netEdgeBps(buy, sell);
    return {
      asset, event: 'start', buy_exchange: buy.exchange, buy_symbol: buy.symbol, sell_exchange: sell.exchange, sell_symbol: sell.symbol,
      recv_ns: nowNs, buy_ask: buy.ask, sell_bid: sell.bid, gross_edge_bps: gross, net_edge_bps: net,
      buy_age_ms: ageMs(nowNs, buy.recvNs), sell_age_ms: ageMs(nowNs, sell.recvNs),
      peak_net_edge_bps: net, duration_ms: 0, reason: '', session: at.session, ingest_seq: BigInt(at.ingestSeq),
    };
  }

  private end(a: AssetBooks, buy: Book, sell: string, o: Open, nowNs: bigint, at: Origin, reason: string, now: ArbitrageRow | undefined): ArbitrageRow {
    buy.openAsBuyer.delete(sell);
    if (--a.open === 0) this.openAssets = this.openAssets.filter((x) => x !== a);
    const base = now ?? o.start;
    return {
      ...base, event: 'end', recv_ns: nowNs, session: at.session, ingest_seq: BigInt(at.ingestSeq),
      peak_net_edge_bps: o.peak, duration_ms: ageMs(nowNs, o.start.recv_ns), reason,
    };
  }
}

function netEdgeBps(buy: Book, sell: Book): number {
  return ((sell.bid * (1 - sell.fee) - buy.ask * (1 + buy.fee)) / buy.ask) * BPS;
}

function ageMs(nowNs: bigint, thenNs: bigint): number {
  return Number(nowNs - thenNs) / 1e6;
}
