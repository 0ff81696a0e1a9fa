/**
 * A level-2 order book rebuilt from a recorded snapshot and the recorded diffs after it,
 * for the façade's REST book (each exchange's order-book route) at the replay's present.
 * Prices and sizes stay the exchange's text; a zero size removes the level.
 */
export type Level = readonly [price: string, size: string];

export class L2Book {
  private readonly sides = { bids: new Map<string, string>(), asks: new Map<string, string>() };

  constructor(bids: readonly Level[], asks: readonly Level[]) {
    for (const [p, s] of bids) this.set('bids', p, s);
    for (const [p, s] of asks) this.set('asks', p, s);
  }

  set(side: 'bids' | 'asks', price: string, size: string): void {
    if (Number(size) === 0) this.sides[side].delete(price);
    else this.sides[side].set(price, size);
  }

  /** The best `n` levels of a side: bids highest first, asks lowest first. */
  top(side: 'bids' | 'asks', n: number): Level[] {
    const sign = side === 'bids' ? -1 : 1;
    return [...this.sides[side]].sort((a, b) => sign * (Number(a[0]) - Number(b[0]))).slice(0, n);
  }
}
