/**
 * k-way merge of sorted async streams, with a binary heap: O(log k) per item. The result is
 * the sorted union as long as each input is sorted; ties keep input order (stable).
 */
export async function* mergeSorted<T>(inputs: readonly AsyncIterable<T>[], compare: (a: T, b: T) => number): AsyncGenerator<T> {
  interface Head { value: T; src: number; it: AsyncIterator<T> }
  const heap: Head[] = [];
  const less = (a: Head, b: Head): boolean => {
    const c = compare(a.value, b.value);
    return c < 0 || (c === 0 && a.src < b.src);
  };
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
  for (let src = 0; src < inputs.length; src++) {
    const it = inputs[src]![Symbol.asyncIterator]();
    const n = await it.next();
    if (!n.done) {
      heap.push({ value: n.value, src, it });
      up(heap.length - 1);
    }
  }
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.value;
    const n = await top.it.next();
    if (n.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
    } else {
      top.value = n.value;
      down(0);
    }
  }
}
