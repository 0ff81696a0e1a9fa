/**
 * Binance's shortcut for the import's census (spec.ts `Census`): frames on the routes of
 * market data are not decoded. A quote never moves the recognised/unknown counters, and a
 * trade only when its symbol's candles already come from the other trade stream
 * (decode.ts `emitTrade`), which takes both streams in one recording: only then can the
 * census not tell without decoding all that came before (`sure`).
 *
 * Most frames (the real sessions: every trade and quote) are known for a trade or a quote
 * by one regular expression over their whole text, without scanning their fields; the rest
 * go through the adapter, whose own routes then skip (decode.ts, `state.census`).
 */
import type { LogEvent } from '../../log/event.ts';
import type { MarketEvent } from '../../market/events.ts';
import { NUMBER, STRING } from '../scan.ts';
import type { Census } from '../spec.ts';
import { decodeBinance, newBinanceState, type TradeStream } from './decode.ts';

/** The routes the census skips, and whether it met both trade streams. */
export class CensusRoutes {
  sure = true;
  private stream: TradeStream | undefined;

  /** The frame's events as the census takes them: none. `stream`: the trade stream of a trade route. */
  skip(stream?: TradeStream): MarketEvent[] {
    if (stream !== undefined && (this.stream ??= stream) !== stream) this.sure = false;
    return [];
  }
}

const CHAR = '[^"\\\\\\x00-\\x1f]';
/** A key other than `e`, without escapes. */
const NOT_E = `"(?:[^"\\\\\\x00-\\x1fe]${CHAR}*|e${CHAR}+)"`;
const PLAIN = `(?:${STRING}|${NUMBER}|true|false|null)`;
/**
 * A combined-stream frame whose `data` is a flat object of plain values opening with an `e`
 * of a trade or a quote and holding no other `e`: valid JSON whose route, by JSON.parse or
 * the scanner alike, is that `e`'s.
 */
const TRADE_OR_QUOTE = new RegExp(`^\\{"stream":${STRING},"data":\\{"e":"(trade|aggTrade|bookTicker)"(?:,${NOT_E}:${PLAIN})*\\}\\}$`);
/** The spot bookTicker frame (no `e`; `u s b B a A`, protocols.md §1): a quote. */
const SPOT_QUOTE = new RegExp(`^\\{"stream":${STRING},"data":\\{"u":${NUMBER},"s":${STRING},"b":${STRING},"B":${STRING},"a":${STRING},"A":${STRING}\\}\\}$`);

export function makeBinanceCensus(): Census {
  const routes = new CensusRoutes();
  const state = newBinanceState(routes);
  return {
    count(ev: LogEvent): void {
      if (ev.kind === 'frame') {
        const text = ev.payload;
        if (SPOT_QUOTE.test(text)) return void routes.skip();
        const m = TRADE_OR_QUOTE.exec(text);
        if (m !== null) return void routes.skip(m[1] === 'bookTicker' ? undefined : m[1] as TradeStream);
      }
      decodeBinance(ev, state);
    },
    counts: state.counts,
    get sure() {
      return routes.sure;
    },
  };
}
