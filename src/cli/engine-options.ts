/** The engine's command-line options, shared by every command that runs the pipeline. */
import type { Argv } from 'yargs';
import {
  DEFAULT_CONFIG, feesSpec, isRsiPeriod, parseDuration, parseFees, parseMapping, parsePeriods, parseWindows, type EngineConfig,
} from '../engine/config.ts';
import { EXCHANGE_IDS, isSupportedExchange } from '../exchanges/registry.ts';
import { userInput } from './errors.ts';

export function withEngineOptions<T>(y: Argv<T>) {
  return y
    .option('windows', { type: 'string', default: '1m,5m', describe: 'tumbling windows, e.g. 1s,10s,1m,5m' })
    .option('lateness', { type: 'string', default: '2s', describe: 'allowed lateness before a window closes' })
    .option('max-hold', { type: 'string', default: '60s', describe: 'longest a window waits for a gap\'s backfill' })
    .option('sma', { type: 'string', default: '20,50', describe: 'SMA periods (closed candles)' })
    .option('ema', { type: 'string', default: '20,50', describe: 'EMA periods (closed candles)' })
    .option('rsi', { type: 'number', default: 14, describe: 'RSI period (Wilder smoothing)' })
    .option('fees', { type: 'string', default: feesSpec(DEFAULT_CONFIG.arbitrage.feesBps), describe: 'taker fees in bps, exchange=bps,…' })
    .option('min-edge', { type: 'number', default: 1, describe: 'net arbitrage edge to report, bps' })
    .option('staleness', { type: 'string', default: '1s', describe: 'quotes older than this never count for arbitrage' })
    .option('map', { type: 'string', default: '', describe: 'symbol mapping, e.g. binance:BTCUSDT=BTC/USD,coinbase:BTC-USD=BTC/USD' })
    .option('usdt-as-usd', { type: 'boolean', default: true, describe: 'treat USDT/USDC as USD when matching assets' });
}

export interface EngineArgs {
  windows: string; lateness: string; 'max-hold': string; sma: string; ema: string; rsi: number; fees: string;
  'min-edge': number; staleness: string; map: string; 'usdt-as-usd': boolean;
}

/**
 * Fees by exchange, for `flag`: a name that is no exchange tapedeck reads (nor a
 * `cryptocompare:<Market>` venue) is refused, not kept as a fee nothing ever charges
 * (`--fees binanse=5` left Binance at its default).
 */
export function parseExchangeFees(spec: string, flag: string): Record<string, number> {
  const fees = parseFees(spec);
  for (const name of Object.keys(fees)) {
    if (!isSupportedExchange(name) && !/^cryptocompare:\S+$/.test(name)) throw new Error(`bad ${flag} ${JSON.stringify(spec)}: no exchange ${JSON.stringify(name)} (exchanges: ${EXCHANGE_IDS.join(', ')}, or cryptocompare:<Market>)`);
  }
  return fees;
}

export function engineConfig(a: EngineArgs): EngineConfig {
  return userInput(() => {
    if (!isRsiPeriod(a.rsi)) throw new Error(`bad --rsi ${a.rsi} (an integer of at least 2)`);
    if (!Number.isFinite(a['min-edge'])) throw new Error('bad --min-edge (a number of bps)');
    return {
      intervalsMs: parseWindows(a.windows),
      latenessMs: parseDuration(a.lateness),
      maxHoldMs: parseDuration(a['max-hold']),
      smaPeriods: parsePeriods(a.sma, 'SMA'),
      emaPeriods: parsePeriods(a.ema, 'EMA'),
      rsiPeriod: a.rsi,
      arbitrage: {
        ...DEFAULT_CONFIG.arbitrage,
        feesBps: { ...DEFAULT_CONFIG.arbitrage.feesBps, ...parseExchangeFees(a.fees, '--fees') },
        minEdgeBps: a['min-edge'],
        stalenessMs: parseDuration(a.staleness),
        usdtAsUsd: a['usdt-as-usd'],
        mapping: parseMapping(a.map),
      },
    };
  });
}
