/** The recorder's live view: elapsed time, per-connection state and rate, and why RSI is still `-`. */
import { describe, expect, it } from 'vitest';
import { liveState } from '../../src/cli/live-view.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import type { LogEvent, LogKind } from '../../src/log/event.ts';

const T0 = Date.UTC(2024, 7, 9, 0, 0, 0);
let seq = 0;
function ev(kind: LogKind, conn: string, payload = ''): LogEvent {
  return { session: 's', ingestSeq: seq++, recvNs: BigInt(T0) * 1_000_000n, exchange: 'binance', conn, kind, payload, meta: '' };
}
const trade = (id: number): string =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":${T0},"s":"BTCUSDT","t":${id},"p":"60000.5","q":"0.1","T":${T0},"m":false,"M":true}}`;

describe('live view', () => {
  it('shows the time running, each connection\'s state and frame rate, and why RSI is -', () => {
    const v = liveState(DEFAULT_CONFIG, T0);
    v.tap(ev('open', 'c1'));
    for (let i = 0; i < 10; i++) v.tap(ev('frame', 'c1', trade(i + 1)));
    const text = v.text(T0 + 65_000 + 2_000 * 3600);
    expect(text).toMatch(/running 2:01:05/);
    expect(text, '10 frames over the 2 h 1 min since the start').toMatch(/binance\/c1 +open +0\.0 frames\/s +10 frames/);
    expect(text).toMatch(/binance BTCUSDT +60000\.50 .* RSI +-/);
    expect(text, 'RSI 14 is first reported after 15 closed candles').toMatch(/RSI -: not yet 15 closed 1m candles/);

    for (let i = 0; i < 5; i++) v.tap(ev('frame', 'c1', trade(100 + i)));
    v.tap(ev('close', 'c1'));
    expect(v.text(T0 + 65_000 + 2_000 * 3600 + 2_000), '5 frames in the 2 s since the last draw').toMatch(/binance\/c1 +closed +2\.5 frames\/s +15 frames/);
  });

  it('drops the RSI hint once every market has a value', () => {
    const v = liveState(DEFAULT_CONFIG, T0);
    v.tap(ev('frame', 'c1', trade(1)));
    v.sink.emit('indicators', { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', values: { rsi_14: 55.5 } } as never);
    const text = v.text(T0 + 1000);
    expect(text).toMatch(/RSI +55\.5/);
    expect(text).not.toMatch(/RSI -:/);
  });
});
