/**
 * Kraken's REST backfill paging (src/exchanges/kraken/backfill.ts), pure: against a model of
 * `GET /0/public/Trades?since=` (the trades after a time in ns, oldest first, a few a page,
 * `last` the newest row's time), following the pages from the last trade before a gap
 * fetches every id of the gap, each page from a later cursor, and stops at the page that
 * reaches the gap's last id. Bodies it cannot go on from are errors that name why. The
 * adapter takes a page's missing trades once; Kafka routes a page with its symbol's frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { krakenBackfill, tradesPage } from '../../src/exchanges/kraken/backfill.ts';
import { eventSymbol, makeDecoder } from '../../src/exchanges/registry.ts';
import type { GapRequest } from '../../src/exchanges/spec.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { partitionsFor } from '../../src/storage/kafka.ts';

const REST = 'http://127.0.0.1:9/kraken';
const SYMBOL = 'BTC/USD';

interface Row { id: bigint; tsUs: number }

/** The model server: trades after `since` (ns), at most `cap`, in Kraken's body shape. */
function reply(trades: readonly Row[], url: string, cap: number): string {
  const u = new URL(url);
  expect(u.pathname).toBe('/kraken/0/public/Trades');
  expect(u.searchParams.get('pair')).toBe('BTCUSD');
  const since = BigInt(u.searchParams.get('since')!);
  const page = trades.filter((t) => BigInt(t.tsUs) * 1000n > since).slice(0, cap);
  const rows = page.map((t) => `["60000.5","0.01",${(t.tsUs / 1e6).toFixed(6)},"b","l","",${t.id}]`);
  return `{"error":[],"result":{"XXBTZUSD":[${rows.join(',')}],"last":"${page.length > 0 ? BigInt(page.at(-1)!.tsUs) * 1000n : since}"}}`;
}

const body = (text: string) => ({ body: text, header: () => null });

/** Follows a gap's pages to the end (or an error), at most 10 000 of them. */
function follow(trades: readonly Row[], gap: GapRequest, cap: number): { urls: string[]; ids: bigint[] } {
  const urls: string[] = [];
  const ids: bigint[] = [];
  for (let url: string | undefined = krakenBackfill.first(REST, gap); url !== undefined && urls.length < 10_000;) {
    urls.push(url);
    const text = reply(trades, url, cap);
    ids.push(...tradesPage(text).ids);
    const page = krakenBackfill.next(REST, gap, url, body(text));
    expect(page.trades).toBe(tradesPage(text).ids.length);
    url = page.next;
  }
  return { urls, ids };
}

describe('Kraken REST backfill paging (property)', () => {
  it('from the last trade before a gap, following `last`, fetches every id of the gap and stops at its end', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 3, maxLength: 200 }),
      fc.nat(), fc.nat(), fc.integer({ min: 2, max: 30 }), fc.boolean(), fc.constantFrom(1n, 2n ** 53n + 7n),
      (steps, a, b, cap, tie, firstId) => {
        // Strictly later times, but the gap's first trade may share its µs with the one before it
        // (a page holds at least two trades: a time cursor cannot split trades of one time).
        let t = 1_732_000_000_000_000;
        const trades: Row[] = steps.map((s, i) => ({ id: firstId + BigInt(i), tsUs: (t += s) }));
        const from = 1 + (a % (trades.length - 1));
        const to = from + (b % (trades.length - from));
        if (tie) trades[from]!.tsUs = trades[from - 1]!.tsUs;
        const gap: GapRequest = { exchange: 'kraken', symbol: SYMBOL, fromId: trades[from]!.id, toId: trades[to]!.id, sinceUs: trades[from - 1]!.tsUs };
        const { urls, ids } = follow(trades, gap, cap);
        for (let id = gap.fromId; id <= gap.toId; id++) expect(ids).toContain(id);
        // Each page from a later cursor; the last one is the first to reach the gap's end.
        const cursors = urls.map((u) => BigInt(new URL(u).searchParams.get('since')!));
        for (let i = 1; i < cursors.length; i++) expect(cursors[i]!).toBeGreaterThan(cursors[i - 1]!);
        expect(ids.at(-1)! >= gap.toId).toBe(true);
        expect(ids.slice(0, -Math.min(cap, ids.length)).every((id) => id < gap.toId)).toBe(true);
        expect(urls.length).toBe(Math.ceil((to - from + 2) / cap) || 1);
      },
    ), { numRuns: 300 });
  });

  it('says why when a page cannot go on: an error list, no trades, a cursor that stays, a page past the gap\'s start, no time to start from', () => {
    const gap: GapRequest = { exchange: 'kraken', symbol: SYMBOL, fromId: 11n, toId: 12n, sinceUs: 1_732_000_000_000_000 };
    const first = krakenBackfill.first(REST, gap);
    expect(first).toBe(`${REST}/0/public/Trades?pair=BTCUSD&since=1731999999999999999&count=1000`);
    const next = (text: string, url = first) => () => krakenBackfill.next(REST, gap, url, body(text));
    expect(next('{"error":["EGeneral:Too many requests"]}')).toThrow(/Kraken: EGeneral:Too many requests/);
    expect(next('{"error":[],"result":{"XXBTZUSD":[],"last":"1731999999999999999"}}')).toThrow(/no trades of BTC\/USD after 1731999999999999999 ns/);
    expect(next('{"error":[],"result":{"XXBTZUSD":[["1","1",1732000000.000000,"b","l","",10]],"last":"1731999999999999999"}}')).toThrow(/does not move on/);
    expect(next('{"error":[],"result":{"XXBTZUSD":[["1","1",1732000000.000001,"b","l","",12]],"last":"1732000000000001000"}}')).toThrow(/start at id 12, after its first id 11/);
    expect(next('{"error":[],"result":"nope"}')).toThrow(/has no result/);
    expect(() => krakenBackfill.first(REST, { ...gap, sinceUs: undefined })).toThrow(/pages by time/);
    // A later page may start anywhere: only the first must hold the gap's start.
    expect(next('{"error":[],"result":{"XXBTZUSD":[["1","1",1732000000.000001,"b","l","",12]],"last":"1732000000000001000"}}', `${REST}/0/public/Trades?pair=BTCUSD&since=5&count=1000`)()).toEqual({ trades: 1, next: undefined });
  });

  it('a logged page is about its frames\' symbol: Kafka routes it to their partition', () => {
    const ev = (kind: 'frame' | 'rest', payload: string, meta: string): LogEvent => ({ session: 's', ingestSeq: 0, recvNs: 0n, exchange: 'kraken', conn: 'c', kind, payload, meta });
    const frame = ev('frame', '{"channel":"trade","type":"update","data":[{"symbol":"ETH/USDT","side":"buy"}]}', '');
    for (const [pair, symbol] of [['ETHUSDT', 'ETH/USDT'], ['BTCUSD', 'BTC/USD'], ['SOLEUR', 'SOL/EUR']]) {
      expect(eventSymbol(ev('rest', '{}', `${REST}/0/public/Trades?pair=${pair}&since=1&count=1000`))).toBe(symbol);
    }
    expect(partitionsFor(ev('rest', '{}', `${REST}/0/public/Trades?pair=ETHUSDT&since=1`), 12)).toEqual(partitionsFor(frame, 12));
    expect(partitionsFor(frame, 12)).toHaveLength(1);
  });

  it('the adapter takes a page\'s missing trades once, says an error list, and leaves the restart\'s newest-trade body unread', () => {
    const d = makeDecoder('kraken')!;
    const at = (kind: 'frame' | 'rest', payload: string, meta = ''): LogEvent => ({ session: 's', ingestSeq: 0, recvNs: 1_732_000_001_000_000_000n, exchange: 'kraken', conn: 'c', kind, payload, meta });
    const ws = (id: number) => `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":60000.5,"qty":0.01,"ord_type":"market","trade_id":${id},"timestamp":"2024-11-19T07:06:40.00000${id % 10}Z"}]}`;
    const row = (id: number) => `["60000.5","0.01",1732000000.00000${id % 10},"s","l","",${id}]`;
    const page = `{"error":[],"result":{"XXBTZUSD":[${[10, 11, 12, 13].map(row).join(',')}],"last":"1732000000000003000"}}`;
    expect(d.decode(at('frame', ws(10))).map((m) => m.type)).toEqual(['trade']);
    expect(d.decode(at('frame', ws(13))).map((m) => m.type)).toEqual(['gap', 'trade']);
    expect(d.decode(at('rest', page, `${REST}/0/public/Trades?pair=BTCUSD&since=1&count=1000`)).map((m) => (m.type === 'trade' ? `${m.type} ${m.tradeId} ${m.side} ${m.tsUs}` : m.type)))
      .toEqual(['trade 11 sell 1732000000000001', 'trade 12 sell 1732000000000002', 'gap_filled']);
    expect(d.counts.duplicates).toBe(2);
    expect(d.decode(at('rest', page, `${REST}/0/public/Trades?pair=BTCUSD&count=1`))).toEqual([]);
    expect(d.counts.recognised['rest:other']).toBe(1);
    expect(d.decode(at('rest', '{"error":["EService:Unavailable"]}', `${REST}/0/public/Trades?pair=BTCUSD&since=1`))).toMatchObject([{ type: 'status', status: 'error', detail: 'EService:Unavailable' }]);
    expect(d.decode(at('rest', '{"error":[],"result":{"XXBTZUSD":[["x"]]}}', `${REST}/0/public/Trades?pair=BTCUSD&since=1`))).toMatchObject([{ type: 'decode_error' }]);
  });
});
