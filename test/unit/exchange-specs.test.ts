/**
 * The exchange registry (issue 11 §1): one spec per exchange that every consumer asks.
 * What each spec promises is checked against every exchange at once, so a new one is held
 * to the same contract: symbols round-trip to the canonical asset, fees are the defaults
 * everywhere, backfill paging covers a gap exactly.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { EXCHANGES, EXCHANGE_IDS, RECORDABLE, SIMULATED, canonicalAsset, cryptofeedExchange, exchangeSpec, loadSimServers, simSpec } from '../../src/exchanges/registry.ts';
import type { GapRequest, LiveSpec } from '../../src/exchanges/spec.ts';
import { urlParam } from '../../src/exchanges/common.ts';
import { DEFAULT_EXECUTION } from '../../strategies/execution.ts';

const opts = { usdtAsUsd: true, mapping: {} };

describe('the exchange registry', () => {
  it.each(EXCHANGE_IDS)('%s: a canonical asset goes to its native symbol and back', (x) => {
    for (const c of ['BTC-USD', 'ETH-USD', 'SOL-EUR']) {
      for (const native of [EXCHANGES[x].symbols.native(c)].flat()) expect(canonicalAsset(x, native, opts), `${c} → ${native}`).toBe(c.replace('-', '/'));
    }
  });

  it('takes default fees from the specs alone: engine, execution and CLI agree', () => {
    for (const x of EXCHANGE_IDS) {
      expect(DEFAULT_CONFIG.arbitrage.feesBps[x], x).toBe(EXCHANGES[x].fees.takerBps);
      expect(DEFAULT_EXECUTION.takerFeeBps[x], x).toBe(EXCHANGES[x].fees.takerBps);
      expect(DEFAULT_EXECUTION.makerFeeBps[x], x).toBe(EXCHANGES[x].fees.makerBps);
    }
  });

  it('records exactly the exchanges whose spec says how', () => {
    expect(RECORDABLE).toEqual(EXCHANGE_IDS.filter((x) => exchangeSpec(x)!.live !== undefined));
    expect(RECORDABLE).toEqual(expect.arrayContaining(['binance', 'coinbase']));
  });

  it.each(SIMULATED)('%s: the protocol server reads the trade frames its wire shapes make (stream, symbol, printed decimals)', async (x) => {
    const symbol = [simSpec(x).symbol('BTC')].flat()[0]!;
    const trade = { kind: 'trade' as const, exchange: x, symbol, tradeId: 7, price: 65_000.5, size: 0.25, side: 'sell' as const, tsUs: 1_700_000_000_000_000 };
    const wire = simSpec(x).encoder().wire(trade);
    const server = (await loadSimServers()).get(x)!;
    expect(server.isTrade(wire), wire).toBe(true);
    const stream = server.streamOf(wire);
    expect(stream, wire).toBeDefined();
    // In the stream's own spelling: Binance names streams in lower case (`btcusdt@trade`).
    expect(server.symbolOf(stream!).toUpperCase()).toBe(symbol.toUpperCase());
    const text = server.tradeText(wire);
    expect(Number(text?.price), wire).toBe(trade.price);
    expect(Number(text?.size), wire).toBe(trade.size);
  });

  it('loads a protocol server for every exchange the simulator speaks, and no other', async () => {
    expect([...(await loadSimServers()).keys()]).toEqual(SIMULATED);
  });

  it('names cryptofeed files by the spec, and unknown ones in lower case', () => {
    expect(cryptofeedExchange('BINANCE_US')).toBe('binanceus');
    expect(cryptofeedExchange('COINBASE')).toBe('coinbase');
    expect(cryptofeedExchange('GEMINI')).toBe('gemini');
  });
});

/** Pages a gap against a fake exchange holding `ids`, served as the spec's own simulator body. */
function page(live: LiveSpec, exchange: string, gap: GapRequest, ids: readonly number[]): { urls: string[]; got: number } {
  const backfill = live.backfill!;
  const sim = exchangeSpec(exchange)!.sim!;
  const urls: string[] = [];
  let got = 0;
  for (let url: string | undefined = backfill.first('http://x', gap); url !== undefined;) {
    expect(urls.length, 'paging ends').toBeLessThan(50);
    urls.push(url);
    const limit = Number(urlParam(url, 'limit'));
    const fromId = urlParam(url, 'fromId');
    const after = urlParam(url, 'after');
    // Binance: ids ≥ fromId, oldest first; Coinbase: ids < after, newest first, cursor = oldest.
    const rows = fromId !== undefined ? ids.filter((i) => i >= Number(fromId)).slice(0, limit) : ids.filter((i) => i < Number(after)).slice(-limit);
    const trades = rows.map((tradeId) => ({ kind: 'trade' as const, exchange, symbol: gap.symbol, tradeId, price: 1, size: 1, side: 'buy' as const, tsUs: 1_700_000_000_000_000 }));
    const res = { body: sim.restTradesBody(trades), header: (n: string) => (n === 'cb-after' && rows.length > 0 ? String(rows[0]) : null) };
    const p = backfill.next('http://x', gap, url, res);
    got += p.trades;
    url = p.next;
  }
  return { urls, got };
}

describe('backfill paging, pure', () => {
  const ids = Array.from({ length: 5_000 }, (_, i) => 1_000 + i);
  it.each(['binance', 'coinbase'])('%s: covers a 2,500-id gap in 1000-row pages, every missing id fetched', (x) => {
    const gap = { exchange: x, symbol: 'S', fromId: 2_000n, toId: 4_499n };
    const { urls, got } = page(exchangeSpec(x)!.live!, x, gap, ids);
    expect(urls).toHaveLength(3);
    expect(got, 'at least the gap, at most a page more').toBeGreaterThanOrEqual(2_500);
    expect(got).toBeLessThan(3_500);
  });

  it('binance: an empty page is an error the gap event names', () => {
    const live = exchangeSpec('binance')!.live!.backfill!;
    const gap = { exchange: 'binance', symbol: 'S', fromId: 10n, toId: 20n };
    expect(() => live.next('http://x', gap, live.first('http://x', gap), { body: '[]', header: () => null })).toThrow('no trades from id 10');
  });
});
