/**
 * Cross-exchange arbitrage on best bid/offer. For every asset quoted on two or more
 * exchanges and every ordered pair (buy on A at A's ask, sell on B at B's bid):
 *
 *   net edge = (bid_B · (1 − fee_B) − ask_A · (1 + fee_A)) / ask_A
 *
 * An opportunity is open while the net edge is at least the minimum and neither quote is
 * older than the staleness limit (ages in recorded receive time). One `start` row when it
 * opens and one `end` row when it closes, never one per quote.
 */
import type { Origin, Quote } from '../market/events.ts';
import type { ArbitrageConfig } from './config.ts';
import type { ArbitrageRow } from './rows.ts';

interface Book {
  readonly exchange: string;
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly recvNs: bigint;
}

interface Open {
  readonly start: ArbitrageRow;
  peak: number;
}

const BPS = 10_000;

export class ArbitrageDetector {
  /** asset → exchange → latest quote. */
  private readonly books = new Map<string, Map<string, Book>>();
  /** `asset|buyExchange|sellExchange` → the open opportunity. */
  private readonly open = new Map<string, Open>();

  constructor(private readonly cfg: ArbitrageConfig) {}

  onQuote(q: Quote, asset: string): ArbitrageRow[] {
    let books = this.books.get(asset);
    if (books === undefined) this.books.set(asset, (books = new Map()));
    books.set(q.exchange, { exchange: q.exchange, symbol: q.symbol, bid: q.bid, ask: q.ask, recvNs: q.recvNs });
    return this.evaluate(asset, q.recvNs, q.at);
  }

  /** Time passed (a tick or any event): opportunities whose quotes went stale end. */
  onTime(nowNs: bigint, at: Origin): ArbitrageRow[] {
    if (this.open.size === 0) return [];
    const assets = [...new Set([...this.open.keys()].map((k) => k.split('|')[0]!))].sort();
    return assets.flatMap((a) => this.evaluate(a, nowNs, at));
  }

  /** End of input: every open opportunity ends with reason `eof`. */
  finish(nowNs: bigint, at: Origin): ArbitrageRow[] {
    const keys = [...this.open.keys()].sort();
    return keys.map((k) => this.end(k, this.open.get(k)!, nowNs, at, 'eof', undefined));
  }

  private evaluate(asset: string, nowNs: bigint, at: Origin): ArbitrageRow[] {
    const books = this.books.get(asset);
    if (books === undefined) return [];
    const list = [...books.values()].sort((a, b) => (a.exchange < b.exchange ? -1 : 1));
    const out: ArbitrageRow[] = [];
    for (const buy of list) {
      for (const sell of list) {
        if (buy === sell) continue;
        const key = `${asset}|${buy.exchange}|${sell.exchange}`;
        const now = this.measure(asset, buy, sell, nowNs, at);
        const isOpen = this.open.get(key);
        const stale = now.buy_age_ms > this.cfg.stalenessMs || now.sell_age_ms > this.cfg.stalenessMs;
        const clears = !stale && now.net_edge_bps >= this.cfg.minEdgeBps;
        if (clears && isOpen === undefined) {
          this.open.set(key, { start: now, peak: now.net_edge_bps });
          out.push(now);
        } else if (clears && isOpen !== undefined) {
          if (now.net_edge_bps > isOpen.peak) isOpen.peak = now.net_edge_bps;
        } else if (!clears && isOpen !== undefined) {
          out.push(this.end(key, isOpen, nowNs, at, stale ? 'stale' : 'edge', now));
        }
      }
    }
    return out;
  }

  private measure(asset: string, buy: Book, sell: Book, nowNs: bigint, at: Origin): ArbitrageRow {
    const feeBuy = (this.cfg.feesBps[buy.exchange] ?? this.cfg.defaultFeeBps) / BPS;
    const feeSell = (this.cfg.feesBps[sell.exchange] ?? this.cfg.defaultFeeBps) / BPS;
    const gross = ((sell.bid - buy.ask) / buy.ask) * BPS;
    const net = ((sell.bid * (1 - feeSell) - buy.ask * (1 + feeBuy)) / buy.ask) * BPS;
    return {
      asset, event: 'start', buy_exchange: buy.exchange, buy_symbol: buy.symbol, sell_exchange: sell.exchange, sell_symbol: sell.symbol,
      recv_ns: nowNs, buy_ask: buy.ask, sell_bid: sell.bid, gross_edge_bps: gross, net_edge_bps: net,
      buy_age_ms: ageMs(nowNs, buy.recvNs), sell_age_ms: ageMs(nowNs, sell.recvNs),
      peak_net_edge_bps: net, duration_ms: 0, reason: '', session: at.session, ingest_seq: BigInt(at.ingestSeq),
    };
  }

  private end(key: string, o: Open, nowNs: bigint, at: Origin, reason: string, now: ArbitrageRow | undefined): ArbitrageRow {
    this.open.delete(key);
    const base = now ?? o.start;
    return {
      ...base, event: 'end', recv_ns: nowNs, session: at.session, ingest_seq: BigInt(at.ingestSeq),
      peak_net_edge_bps: o.peak, duration_ms: ageMs(nowNs, o.start.recv_ns), reason,
    };
  }
}

function ageMs(nowNs: bigint, thenNs: bigint): number {
  return Number(nowNs - thenNs) / 1e6;
}
