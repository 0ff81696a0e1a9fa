/**
 * The `tapedeck` command line. Every command turns bad input into one line on stderr and a
 * non-zero exit (2 for bad input, 1 for a failure); TAPEDECK_DEBUG=1 shows stack traces.
 */
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { TapedeckError } from '../errors.ts';
import { attachDashValues, rejectNaN, rejectRepeats } from './argv.ts';

/**
 * Each command's module, loaded only when it runs (or for the command list of --help):
 * `replay` need not load the recorder's SQLite, WebSocket and Kafka clients (start-up was
 * 0.54 s of a 1 s replay, issue 9). The order is --help's.
 */
const COMMANDS: Record<string, () => Promise<CommandModule<object, never>>> = {
  import: async () => (await import('./import.ts')).importCommand as never,
  replay: async () => (await import('./replay.ts')).replayCommand as never,
  record: async () => (await import('./record.ts')).recordCommand as never,
  simulate: async () => (await import('./simulate.ts')).simulateCommand as never,
  verify: async () => (await import('./verify.ts')).verifyCommand as never,
  backtest: async () => (await import('./backtest.ts')).backtestCommand as never,
  demo: async () => (await import('./demo.ts')).demoCommand as never,
  ui: async () => (await import('./ui.ts')).uiCommand as never,
};

function fail(message: string, code: number): never {
  process.stderr.write(`tapedeck: ${message}\n`);
  process.exit(code);
}

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Awaiting a promise that nothing will ever settle (a --strategy module whose top-level await
// never ends) empties the event loop while the command is still running: Node would exit
// with code 13, silently (Node 20) or with a multi-line warning (Node 22 and later). Caught
// when the loop empties first ('beforeExit'), before either.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('tapedeck: failed: stopped with nothing left to run while still waiting (a promise that never settles, e.g. a --strategy module\'s top-level await)\n');
  process.exit(1);
});

const args = attachDashValues(hideBin(process.argv));
try {
  // The command named first, if it is one; otherwise all of them (--help, a typo).
  const named = args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]) ? [args[0]] : Object.keys(COMMANDS);
  const cli = yargs(args)
    .scriptName('tapedeck')
    .usage('$0 <command> [options]\n\nRecord crypto exchange market data as an event log and replay it through the same engine.');
  for (const command of await Promise.all(named.map((n) => COMMANDS[n]!()))) cli.command(command);
  await cli
    // yargs hands a middleware the instance that parsed the command (its options), which its types leave out.
    .middleware(((argv: Record<string, unknown>, y: { getOptions(): { array: string[] } }) => {
      rejectRepeats(argv, new Set(y.getOptions().array), args);
      rejectNaN(argv, args);
    }) as never)
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      fail(msg, 2);
    })
    .help()
    .version()
    .parseAsync();
  settled = true;
} catch (err) {
  settled = true;
  if (process.env.TAPEDECK_DEBUG) console.error(err);
  if (err instanceof TapedeckError) fail(err.message, err.exitCode);
  fail(`failed: ${(err as Error).message ?? String(err)}`, 1);
}
