import type { CommandModule } from 'yargs';
import { VerifyError, verify } from '../../replayer/verify.ts';
import { UserError } from './errors.ts';

interface Args { recording: string; live: string; out?: string; strategy?: string }

export const verifyCommand: CommandModule<object, Args> = {
  command: 'verify',
  describe: 'replay a recording and check that its outputs equal the live run\'s, table by table',
  builder: (y) => y
    .option('recording', { type: 'string', demandOption: true, describe: 'the raw archive the live run wrote' })
    .option('live', { type: 'string', demandOption: true, describe: 'the live run\'s output directory (with manifest.json)' })
    .option('out', { type: 'string', describe: 'keep the replay\'s outputs here' })
    .option('strategy', { type: 'string', describe: 'the module of a paper-trading run\'s strategy when it is not built in (a manifest can name only built-in ones)' }) as never,
  handler: async (a) => {
    let r;
    try {
      r = await verify(a.recording, a.live, a.out, a.strategy);
    } catch (err) {
      if (err instanceof VerifyError) throw new UserError(err.message);
      throw err;
    }
    if (r.strategy) process.stdout.write(`strategy: ${r.strategy.name} ${r.strategy.source === 'built in' ? '(built in)' : r.strategy.source}\n`);
    for (const [t, x] of Object.entries(r.tables)) {
      process.stdout.write(`${x.live === x.replay ? 'same' : 'DIFF'}  ${t.padEnd(14)} ${x.rows} rows  ${x.replay.slice(0, 16)}\n`);
    }
    if (r.identical) {
      process.stdout.write('identical: the replay reproduces the live run byte for byte\n');
      return;
    }
    const d = r.difference!;
    const ev = d.event ? `${d.event.session}#${d.event.ingestSeq} (${d.event.kind} on ${d.event.exchange}/${d.event.conn}): ${d.event.payload.slice(0, 300)}` : 'not found in the archive';
    process.stderr.write(`tapedeck: verification failed: first difference in ${d.table}, row ${d.row}\n  live:   ${d.live ?? '(no row)'}\n  replay: ${d.replay ?? '(no row)'}\n  input event: ${ev}\n`);
    process.exitCode = 1;
  },
};
