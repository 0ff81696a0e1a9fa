/**
 * Exchange frames for the decoders' property tests, as `[recvNs, payload]`: every frame of
 * the real recordings (when they are beside the repository), then doc and hand-written
 * frames; the hand-written ones alone without the recordings.
 */
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import { REAL, readLines, real } from '../helpers.ts';

/** Doc and hand-written frames beside the real ones: shapes no recording holds (fixtures README, "Known gaps"). */
const T0 = 1_723_161_255_000_000_000n;
export const SYNTHETIC: Record<string, [bigint, string][]> = {
  binance: [
    [T0, '{"result":null,"id":1}'],
    [T0, '{"code":2,"msg":"Invalid request: unknown variant"}'],
    [T0, '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1723161255000}}'],
    [T0, '{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","b":88,"a":50,"T":1723161255342,"m":true,"M":true}'],
    [T0, '{"e":"bookTicker","u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000","T":1723161255342,"E":1723161255343}'],
    [T0, '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1723161255343,"s":"BTCUSDT","k":{"t":1723161240000,"i":"1m","o":"1","c":"2","x":false}}}'],
  ],
  coinbase: [
    [1_618_677_817_000_000_000n, '{"type":"heartbeat","sequence":90,"last_trade_id":881620,"product_id":"BAND-GBP","time":"2021-04-17T16:43:37.464459Z"}'],
    [1_618_677_817_000_000_000n, '{"message":"Failed to subscribe","reason":"No channels provided","type":"error"}'],
    [1_618_677_817_000_000_000n, '{"type":"ticker","sequence":1,"product_id":"BTC-USD","price":"1","best_bid":"1.5","best_bid_size":"0.1","best_ask":"1.6","best_ask_size":"0.2","time":"2021-04-17T16:43:37Z"}'],
    [1_618_677_817_000_000_000n, '{"type":"status","products":[],"currencies":[]}'],
  ],
};

export function hft(file: string): [bigint, string][] {
  return readLines(real(file)).map((line) => {
    const r = parseHftbacktestLine(line);
    return [r.recvNs, r.payload];
  });
}

export function cryptofeed(file: string): [bigint, string][] {
  return readLines(real(file)).flatMap((line) => {
    const r = parseCryptofeedLine(line);
    return r && r.kind === 'frame' ? [[r.recvNs, r.payload] as [bigint, string]] : [];
  });
}

export const FRAMES: Record<string, [bigint, string][]> = REAL
  ? {
    binance: [
      ...hft('binance/hftbacktest/btcusdt_20240808.gz'),
      ...cryptofeed('binance/cryptofeed/BINANCE-ee25be.0'),
      ...cryptofeed('binance/cryptofeed/BINANCE-b38f7c.0'),
      ...cryptofeed('binance/cryptofeed/BINANCE.ws.1.0'),
      ...SYNTHETIC.binance!,
    ],
    coinbase: [...cryptofeed('coinbase/cryptofeed/COINBASE.ws.28.0'), ...SYNTHETIC.coinbase!],
  }
  : SYNTHETIC;
