import type { CommandModule } from 'yargs';
import { IMPORT_FORMATS, importRecordings, type ImportFormat } from '../importers/import.ts';
import { isSupportedExchange } from '../exchanges/registry.ts';
import { UserError, envSwitch } from './errors.ts';

interface Args { files: string[]; format: string; out: string; exchange?: string; 'rows-per-file': number }

export const importCommand: CommandModule<object, Args> = {
  command: 'import <files..>',
  describe: 'import recordings made by other tools (hftbacktest, cryptofeed) into a raw archive',
  builder: (y) => y
    // `<files..>` already demands one; `default: undefined` stops yargs showing `[default: []]` beside `[required]`.
    .positional('files', { type: 'string', array: true, default: undefined, describe: 'the recording\'s files, in order (.gz or plain); the files of one recording become one session' })
    .option('format', { type: 'string', demandOption: true, describe: `input format: ${IMPORT_FORMATS.join('|')}` })
    .option('out', { type: 'string', default: 'data/raw', describe: 'archive directory' })
    .option('exchange', { type: 'string', describe: 'exchange of hftbacktest files (default binance)' })
    .option('rows-per-file', { type: 'number', default: 250_000, describe: 'rotate archive files at this many rows' }) as never,
  handler: async (a) => {
    if (!(IMPORT_FORMATS as readonly string[]).includes(a.format)) throw new UserError(`unknown --format ${JSON.stringify(a.format)} (use ${IMPORT_FORMATS.join(' or ')})`);
    if (a.exchange !== undefined && !isSupportedExchange(a.exchange)) throw new UserError(`unknown --exchange ${JSON.stringify(a.exchange)}`);
    // cryptofeed files name their exchange: an --exchange there was passed over without a word.
    if (a.exchange !== undefined && a.format !== 'hftbacktest') throw new UserError(`--exchange is for hftbacktest files, which do not name their exchange; ${a.format} files name theirs (${a.exchange} was given)`);
    if (!Number.isInteger(a['rows-per-file']) || a['rows-per-file'] < 1) throw new UserError('bad --rows-per-file (a positive integer)');
    // TAPEDECK_IMPORT_THREAD=0 or 1 overrides where the archive is written (for side-by-side measurement).
    const writeThread = envSwitch('TAPEDECK_IMPORT_THREAD', 'write in line', 'write on a worker thread');
    const sessions = await importRecordings(a.files, {
      format: a.format as ImportFormat, out: a.out, maxRows: a['rows-per-file'], ...(a.exchange ? { exchange: a.exchange } : {}),
      ...(writeThread !== undefined ? { writeThread } : {}),
    });
    for (const s of sessions) {
      const kinds = Object.entries(s.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
      const bad = s.badLines > 0 ? `; ${s.badLines} unreadable lines kept as error events` : '';
      const skipped = s.skipped > 0 ? `; ${s.skipped} recorder config lines skipped` : '';
      process.stdout.write(`imported ${s.session} (${s.exchange}): ${s.events} events (${kinds})${bad}${skipped} → ${s.files.length} file(s) in ${s.archive}\n`);
      for (const line of s.cutShort) process.stderr.write(`tapedeck: warning: ${line}\n`);
      for (const line of s.notDecoded) process.stderr.write(`tapedeck: warning: ${line}\n`);
    }
  },
};
