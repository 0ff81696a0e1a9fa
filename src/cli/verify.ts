import type { CommandModule } from 'yargs';
import { VerifyError, verify } from '../../replayer/verify.ts';
import { readBack } from '../storage/cassandra.ts';
import { readManifest } from '../storage/run.ts';
import { UserError } from './errors.ts';
import { cassandraInput, sinkTarget } from './sink-options.ts';

interface Args { recording?: string; live: string; out?: string; strategy?: string; sink?: string }

export const verifyCommand: CommandModule<object, Args> = {
  command: 'verify',
  describe: 'replay a recording and check that its outputs equal the live run\'s, table by table (or that Cassandra holds them)',
  builder: (y) => y
    .option('recording', { type: 'string', describe: 'the raw archive the live run wrote' })
    .option('live', { type: 'string', demandOption: true, describe: 'the live run\'s output directory (with manifest.json)' })
    .option('out', { type: 'string', describe: 'keep the replay\'s outputs here' })
    .option('strategy', { type: 'string', describe: 'the module of a paper-trading run\'s strategy when it is not built in (a manifest can name only built-in ones)' })
    .option('sink', { type: 'string', describe: 'read the run\'s tables back from Cassandra (cassandra://host:port/keyspace) and compare them with its manifest' }) as never,
  handler: async (a) => {
    if (a.recording === undefined && a.sink === undefined) throw new UserError('verify needs --recording (replay it and compare) or --sink (read Cassandra back and compare), or both');
    if (a.recording !== undefined) await verifyReplay(a as Args & { recording: string });
    if (a.sink !== undefined) await verifySink(a.sink, a.live);
  },
};

async function verifyReplay(a: Args & { recording: string }): Promise<void> {
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
  if (d.note !== undefined) process.stderr.write(`tapedeck: verification failed: ${d.table} differs: ${d.note}\n`);
  else process.stderr.write(`tapedeck: verification failed: first difference in ${d.table}, row ${d.row}\n  live:   ${d.live ?? '(no row)'}\n  replay: ${d.replay ?? '(no row)'}\n  input event: ${ev}\n`);
  process.exitCode = 1;
}

/** Cassandra's copy of a run's tables, digested as the manifest's were, table by table. */
async function verifySink(url: string, liveDir: string): Promise<void> {
  const target = sinkTarget(url);
  let manifest;
  try {
    manifest = readManifest(liveDir);
  } catch {
    throw new UserError(`no manifest.json in ${liveDir}: not a tapedeck output directory`);
  }
  const back = await cassandraInput(() => readBack(target, manifest));
  const differ: string[] = [];
  for (const [t, x] of Object.entries(back)) {
    const want = manifest.tables[t];
    const same = want !== undefined && want.sha256 === x.sha256;
    if (!same) differ.push(`${t} (${x.rows} rows in Cassandra, ${want?.rows ?? 0} in the manifest)`);
    process.stdout.write(`${same ? 'same' : 'DIFF'}  ${t.padEnd(14)} ${x.rows} rows  ${x.sha256.slice(0, 16)}  cassandra ${target.keyspace}\n`);
  }
  if (differ.length === 0) {
    process.stdout.write(`identical: Cassandra keyspace ${target.keyspace} holds the run's ${Object.keys(back).join(', ')} exactly\n`);
    return;
  }
  process.stderr.write(`tapedeck: verification failed: Cassandra keyspace ${target.keyspace} differs from ${liveDir}/manifest.json in ${differ.join(', ')}\n`);
  process.exitCode = 1;
}
