/**
 * The CryptoCompare markets tapedeck simulates and subscribes to for a canonical `BASE-QUOTE`,
 * with what each sends. A module of its own, importing nothing: the spec reads it while the
 * registry is being built (wire.ts imports the simulated market, which imports the registry).
 */
export const CC_MARKETS: Readonly<Record<string, { readonly tsns: boolean; readonly ccseq: boolean }>> = {
  Coinbase: { tsns: true, ccseq: true },
  Kraken: { tsns: false, ccseq: true },
  Bitstamp: { tsns: false, ccseq: false },
};
