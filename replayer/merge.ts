/**
 * k-way merges of sorted streams with a binary heap: O(log k) per item. The result is the
 * sorted union as long as each input is sorted; ties keep input order (stable). With
 * unsorted inputs the result is still a deterministic function of the inputs: each step
 * takes the least head (by `compare`, then input index).
 */

/** A stream known by its first item before it is opened (a file by its first row). */
export interface LazyInput<T> {
  readonly first: T;
  open(): AsyncIterator<T[]>;
}

interface Cursor<T> {
  buf: T[];
  i: number;
  readonly src: number;
  readonly it: AsyncIterator<T[]>;
}

/**
 * Merges batched streams into batches of at most `batchRows`. An input is opened only once
 * the merge reaches its first item, so a month of files holds only the files that overlap
 * in time, and awaits happen per batch, never per item.
 */
export async function* mergeBatches<T>(inputs: readonly LazyInput<T>[], compare: (a: T, b: T) => number, batchRows = 4096): AsyncGenerator<T[]> {
  const before = (a: T, sa: number, b: T, sb: number): boolean => {
    const c = compare(a, b);
    return c < 0 || (c === 0 && sa < sb);
  };
  const pending = inputs.map((input, src) => ({ input, src })).sort((a, b) => (before(a.input.first, a.src, b.input.first, b.src) ? -1 : 1));
  const heap: Cursor<T>[] = [];
  const less = (a: Cursor<T>, b: Cursor<T>): boolean => before(a.buf[a.i]!, a.src, b.buf[b.i]!, b.src);
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) return;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  /** Next non-empty batch of an iterator, or undefined at its end. */
  const pull = async (it: AsyncIterator<T[]>): Promise<T[] | undefined> => {
    for (;;) {
      const n = await it.next();
      if (n.done) return undefined;
      if (n.value.length > 0) return n.value;
    }
  };
  let next = 0;
  let out: T[] = [];
  try {
    yield* drain();
  } finally {
    // Stopped early (or failed): let every open input release what it holds (its file).
    await Promise.all(heap.map((c) => c.it.return?.()));
  }

  async function* drain(): AsyncGenerator<T[]> {
    for (;;) {
      // Open every input whose first item would come before the least head.
      while (next < pending.length) {
        const p = pending[next]!;
        const top = heap[0];
        if (top !== undefined && !before(p.input.first, p.src, top.buf[top.i]!, top.src)) break;
        next++;
        const it = p.input.open();
        const buf = await pull(it);
        if (buf === undefined) continue;
        heap.push({ buf, i: 0, src: p.src, it });
        up(heap.length - 1);
      }
      const top = heap[0];
      if (top === undefined) break;
      if (heap.length === 1 && next === pending.length) {
        // One stream left: its batches pass through whole.
        if (out.length > 0) yield out;
        out = [];
        yield top.i === 0 ? top.buf : top.buf.slice(top.i);
        for (let b = await pull(top.it); b !== undefined; b = await pull(top.it)) yield b;
        return;
      }
      out.push(top.buf[top.i++]!);
      if (top.i === top.buf.length) {
        const buf = await pull(top.it);
        if (buf === undefined) {
          const last = heap.pop()!;
          if (heap.length > 0 && last !== top) heap[0] = last;
        } else {
          top.buf = buf;
          top.i = 0;
        }
      }
      if (heap.length > 0) down(0);
      if (out.length >= batchRows) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }
}
