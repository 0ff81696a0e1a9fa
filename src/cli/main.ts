/**
 * The `tapedeck` command line. Every command turns bad input into one line on stderr and a
 * non-zero exit (2 for bad input, 1 for a failure); TAPEDECK_DEBUG=1 shows stack traces.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ArchiveError } from '../storage/archive.ts';
import { ImportError } from '../importers/import.ts';
import { KafkaSourceError } from '../../replayer/kafka-source.ts';
import { KafkaRecordError } from '../storage/kafka.ts';
import { RecordError } from '../../recorder/session.ts';
import { attachDashValues, rejectNaN } from './argv.ts';
import { UserError } from './errors.ts';
import { backtestCommand } from './backtest.ts';
import { demoCommand } from './demo.ts';
import { importCommand } from './import.ts';
import { recordCommand } from './record.ts';
import { replayCommand } from './replay.ts';
import { simulateCommand } from './simulate.ts';
import { verifyCommand } from './verify.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`tapedeck: ${message}\n`);
  process.exit(code);
}

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const args = attachDashValues(hideBin(process.argv));
try {
  await yargs(args)
    .scriptName('tapedeck')
    .usage('$0 <command> [options]\n\nRecord crypto exchange market data as an event log and replay it through the same engine.')
    .command(importCommand)
    .command(replayCommand)
    .command(recordCommand)
    .command(simulateCommand)
    .command(verifyCommand)
    .command(backtestCommand)
    .command(demoCommand)
    .middleware((argv) => rejectNaN(argv, args))
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      fail(msg, 2);
    })
    .help()
    .version()
    .parseAsync();
} catch (err) {
  if (process.env.TAPEDECK_DEBUG) console.error(err);
  if (err instanceof RecordError) fail(err.message, err.exitCode);
  if (err instanceof UserError || err instanceof ImportError || err instanceof ArchiveError || err instanceof KafkaSourceError || err instanceof KafkaRecordError) fail(err.message, 2);
  fail(`failed: ${(err as Error).message ?? String(err)}`, 1);
}
