/**
 * Kraken's REST trade backfill as pure paging (protocols.md §4, REST backfill [K9]).
 * `GET /0/public/Trades?pair=…&since=<ns>` returns the trades after a time, oldest first,
 * and `result.last`, the cursor of the next page. A gap is known by trade ids, so it starts
 * from the exchange time of the last trade received before it (`GapRequest.sinceUs`, less
 * 1 ns: a missing trade may share that µs) and follows `last` until a page reaches the gap's
 * last id. The adapter takes the rows and drops the ones it already has by id.
 */
import { FrameError, isObject, parseJson } from '../common.ts';
import type { BackfillPaging, GapRequest } from '../spec.ts';
import { krakenTradesUrl } from './wire.ts';

/** What a `Trades` body says: its error list, its rows' trade ids, its `last` cursor. */
export interface TradesPage {
  readonly errors: string[];
  readonly rows: unknown[];
  /** Each row's trade id, exact. */
  readonly ids: bigint[];
  readonly last: string | undefined;
}

/** `{"error":[…],"result":{"<PAIR>":[[price, volume, time, side, type, misc, trade_id], …],"last":"<ns>"}}` → its page; a FrameError on another shape. */
export function tradesPage(body: string): TradesPage {
  const msg = parseJson(body);
  if (!isObject(msg)) throw new FrameError('the Trades response is not an object');
  const errors = Array.isArray(msg.error) ? msg.error.map(String) : [];
  if (errors.length > 0) return { errors, rows: [], ids: [], last: undefined };
  const result = msg.result;
  if (!isObject(result)) throw new FrameError('the Trades response has no result');
  const rows = Object.entries(result).find(([k]) => k !== 'last')?.[1] ?? [];
  if (!Array.isArray(rows)) throw new FrameError('the Trades result holds no list of trades');
  // The trade id is a row's 7th element; ids read from the text stay exact past 2^53.
  const ids = [...body.matchAll(/,\s*(\d+)\s*\]/g)].map((m) => BigInt(m[1]!));
  if (ids.length !== rows.length) throw new FrameError(`the Trades rows do not all end with a trade id (${ids.length} of ${rows.length})`);
  return { errors, rows, ids, last: typeof result.last === 'string' || typeof result.last === 'number' ? String(result.last) : undefined };
}

/** A Trades body's page, or an Error naming Kraken's errors when it reports any (the recorder's requests: a backfill page, the newest trade). */
export function answeredPage(body: string): TradesPage {
  const page = tradesPage(body);
  if (page.errors.length > 0) throw new Error(`Kraken: ${page.errors.join('; ')}`);
  return page;
}

/** The first page of a gap: the trades since just before the last one before it. */
export function firstTradesUrl(rest: string, gap: GapRequest): string {
  if (gap.sinceUs === undefined) throw new Error('no trade before this gap is known, and Kraken\'s Trades endpoint pages by time');
  return `${krakenTradesUrl(gap.symbol, BigInt(gap.sinceUs) * 1000n - 1n, rest)}&count=1000`;
}

/** After a page: the next one from its `last` cursor, or the end once the gap's last id is reached. */
export function nextTradesUrl(rest: string, gap: GapRequest, url: string, body: string): { trades: number; next: string | undefined } {
  const page = answeredPage(body);
  const { ids } = page;
  if (ids.length === 0) throw new Error(`Kraken has no trades of ${gap.symbol} after ${/[?&]since=(\d+)/.exec(url)?.[1]} ns: ids to ${gap.toId} are not there`);
  if (url === firstTradesUrl(rest, gap) && ids[0]! > gap.fromId) {
    throw new Error(`Kraken's trades of ${gap.symbol} since the last one before the gap start at id ${ids[0]}, after its first id ${gap.fromId}`);
  }
  if (ids.some((id) => id >= gap.toId)) return { trades: ids.length, next: undefined };
  const since = /[?&]since=(\d+)/.exec(url)?.[1];
  if (page.last === undefined || !/^\d+$/.test(page.last) || page.last === since) throw new Error(`the Trades response's last cursor (${String(page.last)}) does not move on`);
  return { trades: ids.length, next: `${krakenTradesUrl(gap.symbol, BigInt(page.last), rest)}&count=1000` };
}

export const krakenBackfill: BackfillPaging = {
  first: firstTradesUrl,
  next: (rest, gap, url, res) => nextTradesUrl(rest, gap, url, res.body),
};
