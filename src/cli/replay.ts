import type { CommandModule } from 'yargs';
import { tableSummary } from '../storage/run.ts';
import { idRunLines, undecodedLines } from '../exchanges/undecoded.ts';
import { warnIfNoneInRange } from './range-note.ts';
import { parseUserTime } from '../log/time.ts';
import { SPEED_RANGE, speedOption } from './speed.ts';
import { replay } from '../../replayer/replay.ts';
import { engineConfig, withEngineOptions, type EngineArgs } from './engine-options.ts';
import { envSwitch, UserError, userInput } from './errors.ts';
import { boundHeapGrowth } from './heap-growth.ts';
import { progressBar } from './progress.ts';
import { sayWhenStopped } from './stopped.ts';
import { engineInfo, startDashboard, untilStopped, withUiOptions, type UiArgs } from './ui.ts';
import { UiHub } from '../ui/hub.ts';

import { SINK_DESCRIPTION, openSink, sinkSummary } from './sink-options.ts';

interface Args extends EngineArgs, UiArgs { from: string; out: string; speed: string; start?: string; end?: string; group?: string; sink?: string }

/** TAPEDECK_READ_THREAD=0 or 1 overrides the reader thread's default (for side-by-side measurement). */
function readThreadChoice(): { readThread?: boolean } {
  const readThread = envSwitch('TAPEDECK_READ_THREAD', 'read in line', 'on its own thread');
  return readThread === undefined ? {} : { readThread };
}

/**
 * A replay from Kafka holds little (the partitions' bounded buffers, the output tables) but
 * makes short-lived garbage (a LogEvent and its strings per record), and V8 lets the old
 * generation grow to several times what is live before it collects again. Growing it by at
 * most 50 % at a time keeps the process near what it holds. Measured when kafkajs still
 * decoded the records (session 6): a 10M-event topic in 243 MiB peak RSS instead of 399, for
 * 40 % more CPU; 20 % gave 214 MiB for 75 % more, 100 % 273 MiB for 20 % more. With
 * tapedeck's own record decoding (session 8) it still paid: the 1M topic read in line in
 * 179 MiB against 306. TAPEDECK_KAFKA_HEAP_GROWTH=<percent> sets it, 0 leaves V8's own policy.
 */
const KAFKA_HEAP_GROWTH_PERCENT = 50;

export const replayCommand: CommandModule<object, Args> = {
  command: 'replay',
  describe: 'replay a raw archive through the engine and write candles, indicators, arbitrage, late trades',
  builder: (y) => withUiOptions(withEngineOptions(y
    .option('from', { type: 'string', demandOption: true, describe: 'archive directory, one .parquet file, or kafka://host:port/topic' })
    .option('group', { type: 'string', describe: 'with kafka://: join this consumer group and replay the assigned partitions' })
    .option('out', { type: 'string', default: 'data/out/replay', describe: 'output directory' })
    .option('speed', { type: 'string', default: 'max', describe: `pace: a factor from ${SPEED_RANGE.min}x to ${SPEED_RANGE.max}x (1x, 50x, 0.5x), or max` })
    .option('start', { type: 'string', describe: 'first receive time to replay (ISO-8601)' })
    .option('end', { type: 'string', describe: 'receive time to stop before (ISO-8601)' })
    .option('sink', { type: 'string', describe: SINK_DESCRIPTION }))) as never,
  handler: async (a) => {
    const speed = speedOption(a.speed);
    const startNs = a.start !== undefined ? userInput(() => parseUserTime(a.start!)) : undefined;
    const endNs = a.end !== undefined ? userInput(() => parseUserTime(a.end!)) : undefined;
    if (startNs !== undefined && endNs !== undefined && startNs >= endNs) throw new UserError(`--start ${a.start} is not before --end ${a.end}: nothing to replay`);
    const config = engineConfig(a);
    if (a.group !== undefined && !a.from.startsWith('kafka://')) throw new UserError('--group needs a kafka:// source');
    if (a.from.startsWith('kafka://')) {
      const { parseKafkaUrl } = await import('../storage/kafka.ts');
      userInput(() => parseKafkaUrl(a.from));
      boundHeapGrowth('TAPEDECK_KAFKA_HEAP_GROWTH', KAFKA_HEAP_GROWTH_PERCENT);
    }
    const dash = a.ui ? await startDashboard(new UiHub(engineInfo(a.from, 'replay', config, a.speed)), a) : undefined;
    if (dash) process.stderr.write(`dashboard at ${dash.server.url}\n`);
    const sink = a.sink !== undefined ? await openSink(a.sink, config, (l) => process.stderr.write(`tapedeck: ${l}\n`)) : undefined;
    const bar = progressBar('replay');
    let progress = { done: 0, total: 0 };
    const watch = speed === 'max' ? undefined : sayWhenStopped('replay', a.out, () => progress, { first: () => bar.abort(), ...(a.sink !== undefined ? { sinks: a.sink } : {}) });
    const { manifest, elapsedMs, decodeCache, resends } = await replay({
      from: a.from, out: a.out, speed, config, ...readThreadChoice(), ...(a.group !== undefined ? { group: a.group } : {}),
      onProgress: (done, total) => {
        progress = { done, total };
        bar.update(done, total);
        dash?.hub.expect(total);
      },
      ...(startNs !== undefined ? { startNs } : {}), ...(endNs !== undefined ? { endNs } : {}),
      sinks: [...(dash ? [dash.hub] : []), ...(sink ? [sink] : [])], ...(dash ? { taps: [dash.hub.tap] } : {}),
    }).finally(() => watch?.off());
    bar.stop();
    const written = await sink?.close();
    const rate = Math.round(manifest.events / (elapsedMs / 1000));
    const tables = tableSummary(manifest);
    for (const line of [...undecodedLines(manifest.stats.undecodedFrames, manifest.stats.decode), ...idRunLines(manifest.stats.decode)]) process.stderr.write(`tapedeck: warning: ${line}\n`);
    warnIfNoneInRange(manifest.events, a);
    const cached = decodeCache === 'found' ? ', its frames decoded by an earlier replay' : resends ? `, ${resends} resent record${resends === 1 ? '' : 's'} of ${a.from} replayed once` : '';
    process.stdout.write(`replayed ${manifest.events} events in ${(elapsedMs / 1000).toFixed(2)} s (${rate} events/s${cached}) → ${a.out}: ${tables}\n`);
    if (sink && written) {
      process.stdout.write(`${sinkSummary(sink, written)}\n`);
      if (written.unwritten > 0) throw new Error(`cassandra: ${written.unwritten} rows could not be written (${sink.lastError}); the outputs are in ${a.out}`);
    }
    if (dash) {
      // The page stays up on the finished replay until the user is done looking.
      dash.hub.done();
      const stopped = untilStopped();
      process.stderr.write(`replay done; dashboard still at ${dash.server.url} (Ctrl-C to stop)\n`);
      await stopped;
      await dash.close();
    }
  },
};
