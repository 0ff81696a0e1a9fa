/**
 * Line parsers for recordings made by other tools. Pure: a line in, a record out.
 * Formats are described in shared/fixtures/real/README.md.
 */
import type { LogKind } from '../log/event.ts';
import { cryptofeedExchange } from '../exchanges/registry.ts';
import { decimalSecondsToNs } from '../log/time.ts';

export interface ImportedLine {
  readonly kind: LogKind;
  readonly recvNs: bigint;
  /** Always the line's end (the import copies it from the bytes the line was read from). */
  readonly payload: string;
  /** URL of an `open`/`sent`/`rest` line. */
  readonly meta: string;
}

/** A line that is not in the format: kept as an `error` event so nothing recorded is lost. */
export class LineError extends Error {}

/**
 * hftbacktest collector: `<local_receive_time_ns> <raw frame text>` (collector/src/file.rs,
 * `format!("{timestamp} {data}\n")`). The frame is a combined-stream envelope, or once per
 * depth sync the REST `/api/v3/depth` snapshot body, which becomes a `rest` event.
 */
export function parseHftbacktestLine(line: string): ImportedLine {
  const sp = line.indexOf(' ');
  if (sp <= 0 || !isDigits(line, 0, sp)) throw new LineError('expected "<receive_time_ns> <frame>"');
  const ts = line.slice(0, sp);
  const payload = line.slice(sp + 1);
  const kind: LogKind = payload.startsWith('{"lastUpdateId"') ? 'rest' : 'frame';
  return { kind, recvNs: checkedNs(BigInt(ts)), payload, meta: kind === 'rest' ? 'GET /api/v3/depth' : '' };
}

/** True when `s[from, to)` is all ASCII digits. A scan, not a regex: this runs once per line. */
function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Receive times are signed 64-bit nanoseconds in the archive (INT64): 2^63 and past is not a time. */
export const MAX_RECV_NS = 2n ** 63n - 1n;

function checkedNs(ns: bigint): bigint {
  if (ns > MAX_RECV_NS) throw new LineError(`receive time ${ns} is past 2^63 - 1 ns`);
  return ns;
}

/**
 * cryptofeed raw_data_collection transcript. Split at the FIRST `": "` only: payloads
 * contain `": "` too.
 * - `wss://host/path <-> 1618677816.8434298`: connection opened
 * - `wss://host <- 1618677817.020616: {...}`: frame sent by the client
 * - `1618677817.061845: {...}`: frame received
 * - `https://host/path?query -> 1633998512.320639: {...}`: REST response body
 * - `configuration: {...}`: the recorder's own config (returns undefined; not market data)
 */
export function parseCryptofeedLine(line: string): ImportedLine | undefined {
  if (line.startsWith('configuration: ')) return undefined;
  const open = /^(\S+) <-> (\d+(?:\.\d+)?)$/.exec(line);
  if (open) return { kind: 'open', recvNs: checkedNs(decimalSecondsToNs(open[2]!)), payload: '', meta: open[1]! };
  const cut = line.indexOf(': ');
  if (cut < 0) throw new LineError('expected "<time>: <frame>"');
  const head = line.slice(0, cut);
  const payload = line.slice(cut + 2);
  if (/^\d+(?:\.\d+)?$/.test(head)) return { kind: 'frame', recvNs: checkedNs(decimalSecondsToNs(head)), payload, meta: '' };
  const m = /^(\S+) (<-|->) (\d+(?:\.\d+)?)$/.exec(head);
  if (!m) throw new LineError('unrecognised cryptofeed line prefix');
  return { kind: m[2] === '<-' ? 'sent' : 'rest', recvNs: checkedNs(decimalSecondsToNs(m[3]!)), payload, meta: m[1]! };
}

/**
 * Which exchange and recording a cryptofeed file belongs to, from its name:
 * `COINBASE.ws.28.0` → coinbase, recording `COINBASE`, connection `ws.28`;
 * `BINANCE-ee25be.0` → binance, recording `BINANCE-ee25be`, connection from its open lines.
 */
export function cryptofeedFileInfo(basename: string): { exchange: string; recording: string; conn: string } | undefined {
  const m = /^([A-Z_]+)(?:\.(ws|http)\.(\d+)\.\d+|-([0-9a-f]+)\.\d+)$/.exec(basename);
  if (!m) return undefined;
  const exchange = cryptofeedExchange(m[1]!);
  if (m[4] !== undefined) return { exchange, recording: `${m[1]}-${m[4]}`, conn: '' };
  return { exchange, recording: m[1]!, conn: m[2] === 'http' ? 'http' : `ws.${m[3]}` };
}
