/**
 * Bitstamp as tapedeck knows it so far (protocols.md §5): the WebSocket v2 adapter,
 * lowercase pairs without a separator (`btcusd`), and its fees. Not yet recorded live nor
 * simulated.
 */
import { decoderOf, splitOnQuotes, type ExchangeSpec } from '../spec.ts';
import { decodeBitstamp, newBitstampState } from './decode.ts';

/** Quote assets Bitstamp lists, longest first where one ends another. */
const QUOTES = ['USDT', 'USDC', 'PAX', 'GUSD', 'USD', 'EUR', 'GBP', 'BTC', 'ETH'];

export const bitstamp = {
  makeDecoder: decoderOf(newBitstampState, decodeBitstamp),
  symbols: {
    split: splitOnQuotes(QUOTES),
    native: (c) => c.toLowerCase().replace('-', ''),
    ofFrame: (payload) => /"channel": ?"(?:live_trades|order_book|diff_order_book|detail_order_book)_([a-z0-9]+)"/.exec(payload)?.[1],
    ofRest: (url) => /\/(?:transactions|order_book)\/([a-z0-9]+)/.exec(url)?.[1],
  },
  // Entry-tier Bitstamp fees: 0.40 % taker, 0.30 % maker.
  fees: { takerBps: 40, makerBps: 30 },
} satisfies ExchangeSpec;
