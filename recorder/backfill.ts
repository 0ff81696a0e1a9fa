/**
 * REST trade backfill for a gap: fetches the missing ids page by page and logs each
 * response body verbatim as a `rest` event (the decoder turns it into trades). When the
 * exchange cannot be reached after the retries, a `gap` event with status `failed` says
 * so, and the engine stops waiting for those trades.
 */
import type { LogKind } from '../src/log/event.ts';
import type { GapRequest } from '../src/exchanges/spec.ts';
import type { Venue } from './venues.ts';

export type { GapRequest };

/**
 * The largest live gap backfilled, in trades: 100 Binance pages of 1000 (a connection down for
 * half an hour on a busy market). One absurd trade id (9e15 in a frame) opened a gap of
 * quadrillions, paged 1000 ids at a time, thousands of requests a second. A larger gap is
 * said and left as a known gap.
 */
export const MAX_GAP_BACKFILL = 100_000n;
/** Pages one backfill fetches at most (any gap it takes is far fewer): an exchange whose cursors never end is not followed for ever. */
const MAX_PAGES = 2_000;

export interface BackfillDeps {
  readonly venue: Venue;
  readonly log: (kind: LogKind, payload: string, meta: string) => void;
  readonly retries?: number;
  readonly onFilled?: (trades: number) => void;
  readonly onFailed?: (message: string) => void;
  /** Gives up (a failed gap) when it aborts: the restart's time budget, or a stop. */
  readonly signal?: AbortSignal;
}

/**
 * A signal that aborts after `ms`, or when `also` does; `done()` lets go of both. Not
 * AbortSignal.any over AbortSignal.timeout: it holds its sources weakly, so a timeout nothing
 * else holds can be collected before it fires and the request waits for ever (nodejs/node#57736).
 */
export function abortable(ms: number, also?: AbortSignal, why = `no answer within ${ms / 1000} s`): { signal: AbortSignal; done(): void } {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(new Error(why)), ms);
  const follow = (): void => c.abort(also!.reason);
  if (also?.aborted) follow();
  else also?.addEventListener('abort', follow, { once: true });
  return {
    signal: c.signal,
    done: () => {
      clearTimeout(timer);
      also?.removeEventListener('abort', follow);
    },
  };
}

async function fetchText(url: string, retries: number, signal: AbortSignal | undefined): Promise<{ body: string; headers: Headers }> {
  let last = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    if (signal?.aborted) throw new Error(String(signal.reason?.message ?? signal.reason));
    const request = abortable(10_000, signal);
    try {
      const res = await fetch(url, { signal: request.signal });
      const body = await res.text();
      if (res.ok) return { body, headers: res.headers };
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
      // 418 means Binance has banned the IP: retrying only makes it longer.
      if (res.status === 418 || (res.status >= 400 && res.status < 429) || res.status === 404) break;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      request.done();
    }
  }
  throw new Error(last);
}

/** Fetches and logs every page covering ids fromId..toId, as the exchange's spec pages them. */
export async function backfill(gap: GapRequest, deps: BackfillDeps): Promise<void> {
  const retries = deps.retries ?? 3;
  const { venue } = deps;
  const paging = venue.trades?.backfill;
  if (paging === undefined) return;
  let got = 0;
  try {
    // A next page already fetched is no progress: an exchange that answers `fromId=6` with
    // trade 5 again was asked for page 6 2,500 times a second, for as long as the recorder ran.
    const fetched = new Set<string>();
    for (let url: string | undefined = paging.first(venue.restBase, gap); url !== undefined;) {
      if (fetched.has(url)) throw new Error(`the exchange's answers lead back to a page already fetched (${url}): they make no progress`);
      if (fetched.size >= MAX_PAGES) throw new Error(`${MAX_PAGES} pages fetched and the gap is not yet filled`);
      fetched.add(url);
      const { body, headers } = await fetchText(url, retries, deps.signal);
      deps.log('rest', body, url);
      const page = paging.next(venue.restBase, gap, url, { body, header: (name) => headers.get(name) });
      got += page.trades;
      url = page.next;
    }
    deps.onFilled?.(got);
  } catch (err) {
    const message = (err as Error).message;
    deps.log('gap', JSON.stringify({ symbol: gap.symbol, from: String(gap.fromId), to: String(gap.toId), status: 'failed', error: message }), venue.restBase);
    deps.onFailed?.(message);
  }
}
