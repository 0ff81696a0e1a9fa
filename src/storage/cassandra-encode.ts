/**
 * CQL values as their native-protocol bytes, made here rather than by the driver: the
 * driver passes a `Buffer` through untouched, and a sink's rows repeat the same few strings
 * (exchange, symbol, interval, session, day) thousands of times. Encoding each once, and
 * numbers without the driver's per-value type dispatch, was most of what the sink cost a
 * replay (profiled: the driver's `Encoder.encode` was the largest share of the sink's
 * time). The driver's own encoder is the oracle: a property test holds these bytes equal
 * to its.
 */
import { memo } from './memo.ts';

export type CqlType = 'text' | 'bigint' | 'int' | 'double' | 'boolean' | 'timestamp' | 'date';

const DAY_MS = 86_400_000;
/** CQL `date`: days since the epoch, as an unsigned int centred on 2^31. */
function dateBytes(day: string): Buffer {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new TypeError(`not a date: ${JSON.stringify(day)}`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(ms / DAY_MS + 2 ** 31);
  return b;
}

function long(v: unknown): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(v as number));
  return b;
}

/** An encoder of one statement's values, by their CQL types; `null` stays null (CQL null). */
export function cqlEncoder(types: readonly CqlType[]): (values: readonly unknown[]) => (Buffer | null)[] {
  // Repeated values encoded once per encoder.
  const text = memo((s: string) => Buffer.from(s, 'utf8'), 10_000);
  const dates = memo(dateBytes);
  const enc: ((v: unknown) => Buffer)[] = types.map((t) => {
    switch (t) {
      case 'text': return (v) => text(v as string);
      case 'date': return (v) => dates(v as string);
      case 'bigint': return long;
      case 'timestamp': return (v) => long(v instanceof Date ? v.getTime() : v);
      case 'double': return (v) => {
        const b = Buffer.allocUnsafe(8);
        b.writeDoubleBE(v as number);
        return b;
      };
      case 'int': return (v) => {
        const b = Buffer.allocUnsafe(4);
        b.writeInt32BE(v as number);
        return b;
      };
      case 'boolean': return (v) => Buffer.from([v ? 1 : 0]);
    }
  });
  return (values) => {
    const out = new Array<Buffer | null>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = v === null || v === undefined ? null : enc[i]!(v);
    }
    return out;
  };
}
