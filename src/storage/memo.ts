/**
 * `make`, remembered per key: for values a sink derives again and again from a few keys
 * (a day's date, a market's pair, a string's bytes). Bounded: past `max` keys it forgets
 * them all, so a long recording cannot grow it without end.
 */
export function memo<K, V>(make: (k: K) => V, max = 4_096): (k: K) => V {
  const map = new Map<K, V>();
  return (k) => {
    let v = map.get(k);
    if (v === undefined) {
      if (map.size >= max) map.clear();
      v = make(k);
      map.set(k, v);
    }
    return v;
  };
}
