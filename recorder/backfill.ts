/**
 * REST trade backfill for a gap: fetches the missing ids page by page and logs each
 * response body verbatim as a `rest` event (the decoder turns it into trades). When the
 * exchange cannot be reached after the retries, a `gap` event with status `failed` says
 * so, and the engine stops waiting for those trades.
 */
import type { LogKind } from '../src/log/event.ts';
import type { Venue } from './venues.ts';

export interface GapRequest {
  readonly exchange: string;
  readonly symbol: string;
  readonly fromId: bigint;
  readonly toId: bigint;
}

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

const ids = (body: string, field: string): bigint[] => [...body.matchAll(new RegExp(`"${field}":(\\d+)`, 'g'))].map((m) => BigInt(m[1]!));

/** Fetches and logs every page covering ids fromId..toId. */
export async function backfill(gap: GapRequest, deps: BackfillDeps): Promise<void> {
  const retries = deps.retries ?? 3;
  const { venue } = deps;
  let got = 0;
  try {
    if (gap.exchange === 'binance') {
      let from = gap.fromId;
      while (from <= gap.toId) {
        const url = venue.backfillUrl(gap.symbol, from, gap.toId);
        const { body } = await fetchText(url, retries);
        deps.log('rest', body, url);
        const seen = ids(body, 'id');
        got += seen.length;
        if (seen.length === 0) throw new Error(`no trades from id ${from}`);
        from = seen.reduce((a, b) => (a > b ? a : b)) + 1n;
      }
    } else {
      // Coinbase pages backwards: `after` = older than; follow CB-AFTER until past fromId.
      let url = venue.backfillUrl(gap.symbol, gap.fromId, gap.toId);
      for (;;) {
        const { body, headers } = await fetchText(url, retries);
        deps.log('rest', body, url);
        const seen = ids(body, 'trade_id');
        got += seen.length;
        const oldest = seen.reduce<bigint | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
        const cursor = headers.get('cb-after');
        if (oldest === undefined || oldest <= gap.fromId || !cursor) break;
        url = url.replace(/after=\d+/, `after=${cursor}`);
      }
    }
    deps.onFilled?.(got);
  } catch (err) {
    const message = (err as Error).message;
    deps.log('gap', JSON.stringify({ symbol: gap.symbol, from: String(gap.fromId), to: String(gap.toId), status: 'failed', error: message }), venue.restBase);
    deps.onFailed?.(message);
  }
}
