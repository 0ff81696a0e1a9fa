/**
 * Kraken as tapedeck knows it so far (protocols.md §4): the v1/v2 adapter, `XBT/USD`
 * (v1) and `BTC/USD` (v2) pairs, and its fees. Not yet recorded live nor simulated.
 */
import { decoderOf, splitDashed, type ExchangeSpec } from '../spec.ts';
import { decodeKraken, newKrakenState } from './decode.ts';

/** Kraken's own names for assets others call otherwise (v1 pairs use them; v2 does not). */
const ALIASES: Record<string, string> = { XBT: 'BTC', XDG: 'DOGE' };
const canonical = (asset: string): string => (Object.hasOwn(ALIASES, asset) ? ALIASES[asset]! : asset);

export const kraken = {
  makeDecoder: decoderOf(newKrakenState, decodeKraken),
  symbols: {
    split: (symbol) => {
      const s = splitDashed(symbol);
      return s && [canonical(s[0]), canonical(s[1])];
    },
    // v2 spells pairs with the common names: `BTC/USD`.
    native: (c) => c.toUpperCase().replace('-', '/'),
    // v1 arrays end with the pair; v2 objects name it `symbol`.
    ofFrame: (payload) => /,"([^"]+)"\]$/.exec(payload)?.[1] ?? /"symbol":"([^"]+)"/.exec(payload)?.[1],
    ofRest: (url) => /[?&]pair=([A-Za-z0-9]+)/.exec(url)?.[1],
  },
  // Entry-tier Kraken Pro fees: 0.26 % taker (there is no lower public tier), 0.16 % maker.
  fees: { takerBps: 26, makerBps: 16 },
} satisfies ExchangeSpec;
