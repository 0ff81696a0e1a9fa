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

export interface BackfillDeps {
  readonly venue: Venue;
  readonly log: (kind: LogKind, payload: string, meta: string) => void;
  readonly retries?: number;
  readonly onFilled?: (trades: number) => void;
  readonly onFailed?: (message: string) => void;
}

async function fetchText(url: string, retries: number): Promise<{ body: string; headers: Headers }> {
  let last = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.ok) return { body, headers: res.headers };
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
      // 418 means Binance has banned the IP: retrying only makes it longer.
      if (res.status === 418 || (res.status >= 400 && res.status < 429) || res.status === 404) break;
    } catch (err) {
      last = (err as Error).message;
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
    for (let url: string | undefined = paging.first(venue.restBase, gap); url !== undefined;) {
      const { body, headers } = await fetchText(url, retries);
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
