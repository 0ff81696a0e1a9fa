/**
 * `tapedeck verify`: the promise, checked. Replays the recording's session(s) with the live
 * run's exact engine configuration and compares every table's digest. On a difference it
 * names the first differing table and row, and the input event behind that row.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TABLE_NAMES, type TableName } from '../src/engine/rows.ts';
import type { LogEvent } from '../src/log/event.ts';
import { isoToNs } from '../src/log/time.ts';
import { within } from '../src/storage/out-folder.ts';
import { canonicalLine, tableColumns } from '../src/storage/outputs.ts';
import { readParquet } from '../src/storage/parquet.ts';
import { indicatorColumns, readManifest } from '../src/storage/run.ts';
import { planArchive, readArchive } from './read.ts';
import type { ExecutionConfig } from '../strategies/execution.ts';
import { ParamError, recordedParams } from '../strategies/params.ts';
import { BUILT_IN, loadStrategy, StrategyLoadError } from '../strategies/registry.ts';
import type { Strategy } from '../strategies/types.ts';
import type { ParamValue } from '../strategies/types.ts';
import { replay } from './replay.ts';

export interface Difference {
  readonly table: TableName;
  /** Index in canonical order. */
  readonly row: number;
  readonly live: string | undefined;
  readonly replay: string | undefined;
  readonly event: LogEvent | undefined;
  /** Why no differing row can be shown (the live table cannot be read, or holds the replay's rows), instead of the rows. */
  readonly note?: string;
}

export interface VerifyResult {
  readonly identical: boolean;
  readonly tables: Record<string, { live: string; replay: string; rows: number }>;
  readonly difference?: Difference;
  /** The strategy re-run, and where its code came from: `built in`, or the user's --strategy path. */
  readonly strategy?: { readonly name: string; readonly source: string };
}

export class VerifyError extends Error {}

/**
 * The strategy a paper-trading run used. A manifest comes with a recording someone shared,
 * so the name in it selects only a built-in strategy: importing a module it names would run
 * their code as the user. Any other strategy comes from `userPath`, the user's own
 * --strategy, and must carry the name the live run recorded.
 */
async function strategyFor(name: string, userPath: string | undefined): Promise<{ strategy: Strategy; source: string }> {
  if (userPath === undefined) {
    const builtIn = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
    if (builtIn) return { strategy: builtIn, source: 'built in' };
    throw new VerifyError(`the live run paper-traded ${JSON.stringify(name.slice(0, 200))}, which is not a built-in strategy (${Object.keys(BUILT_IN).join(', ')}); verify never loads code a manifest names: pass the module yourself with --strategy <path>`);
  }
  let strategy: Strategy;
  try {
    strategy = await loadStrategy(userPath);
  } catch (err) {
    if (err instanceof StrategyLoadError) throw new VerifyError(err.message);
    throw err;
  }
  if (strategy.name !== name) throw new VerifyError(`--strategy ${userPath} is strategy ${JSON.stringify(strategy.name)}, but the live run paper-traded ${JSON.stringify(name.slice(0, 200))}`);
  return { strategy, source: `from --strategy ${userPath}` };
}

export async function verify(recording: string, liveDir: string, workDir?: string, strategyPath?: string): Promise<VerifyResult> {
  if (!fs.existsSync(path.join(liveDir, 'manifest.json'))) throw new VerifyError(`no manifest.json in ${liveDir}: not a tapedeck output directory`);
  // The replay's outputs must not land on the live run's: they would replace what is being checked (and then agree with themselves).
  if (workDir !== undefined && within(workDir, liveDir)) {
    const where = path.resolve(workDir) === path.resolve(liveDir) ? 'is' : 'lies in';
    throw new VerifyError(`--out ${workDir} ${where} the live run's folder ${liveDir}: the replay's tables would overwrite or mix with the live ones; give another --out`);
  }
  const live = readManifest(liveDir);
  const out = workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-verify-'));
  try {
    // A paper-trading run is re-run with its strategy: its fills are compared like the rest.
    if (!live.strategy && strategyPath !== undefined) throw new VerifyError(`the live run in ${liveDir} ran no strategy; --strategy is not needed`);
    const chosen = live.strategy ? await strategyFor(String(live.strategy.name), strategyPath) : undefined;
    const strategy = live.strategy && chosen
      ? {
        strategy: chosen.strategy, params: manifestParams(chosen.strategy, live.strategy.params, liveDir),
        execution: live.strategy.execution as ExecutionConfig, equityIntervalMs: live.strategy.equity_interval_ms,
      }
      : undefined;
    const used = chosen ? { strategy: { name: chosen.strategy.name, source: chosen.source } } : {};
    const { manifest } = await replay({ from: recording, out, speed: 'max', config: live.engine, sessions: live.sessions, ...rangeOf(live.options, liveDir), ...(strategy ? { strategy } : {}) });
    const tables: VerifyResult['tables'] = {};
    let first: TableName | undefined;
    for (const t of TABLE_NAMES) {
      const a = live.tables[t]?.sha256 ?? '';
      const b = manifest.tables[t]?.sha256 ?? '';
      tables[t] = { live: a, replay: b, rows: manifest.tables[t]?.rows ?? 0 };
      if (a !== b && first === undefined) first = t;
    }
    if (first === undefined) return { identical: true, tables, ...used };
    return { identical: false, tables, difference: await locate(first, liveDir, out, recording, live.engine), ...used };
  } finally {
    if (workDir === undefined) fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The live run's strategy parameters, as `--param` would have taken them, or one line naming the manifest. */
function manifestParams(strategy: Strategy, params: unknown, liveDir: string): Record<string, ParamValue> {
  try {
    return recordedParams(strategy, params);
  } catch (err) {
    if (err instanceof ParamError) throw new VerifyError(`${path.join(liveDir, 'manifest.json')} records parameters no run could take: ${err.message}`);
    throw err;
  }
}

/**
 * The receive-time range the live run was given (`--start`, `--end`: its manifest's options),
 * so that the replay covers the same events; a replay of the whole recording differed from a
 * ranged run in every table.
 */
function rangeOf(options: unknown, liveDir: string): { startNs?: bigint; endNs?: bigint } {
  const ns = (key: 'start' | 'end'): bigint | undefined => {
    // No options (a hand-edited manifest): no range was given.
    const v = typeof options === 'object' && options !== null ? (options as Record<string, unknown>)[key] : undefined;
    if (v === undefined || v === null) return undefined;
    try {
      return isoToNs(String(v));
    } catch {
      throw new VerifyError(`${path.join(liveDir, 'manifest.json')} is not a tapedeck manifest (its options.${key} ${JSON.stringify(v).slice(0, 60)} is not an ISO-8601 UTC time)`);
    }
  };
  const [startNs, endNs] = [ns('start'), ns('end')];
  return { ...(startNs !== undefined ? { startNs } : {}), ...(endNs !== undefined ? { endNs } : {}) };
}

async function locate(table: TableName, liveDir: string, replayDir: string, recording: string, engine: Parameters<typeof indicatorColumns>[0]): Promise<Difference> {
  const columns = tableColumns(table, indicatorColumns(engine));
  const file = path.join(liveDir, `${table}.parquet`);
  let a: Record<string, unknown>[];
  try {
    a = await readParquet(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { table, row: -1, live: undefined, replay: undefined, event: undefined, note: `the live run's ${file} cannot be read (${why}), so its first differing row cannot be shown` };
  }
  const b = await readParquet(path.join(replayDir, `${table}.parquet`));
  let i = 0;
  while (i < a.length && i < b.length && canonicalLine(a[i]!, columns) === canonicalLine(b[i]!, columns)) i++;
  const ra = a[i];
  const rb = b[i];
  if (ra === undefined && rb === undefined) {
    return { table, row: -1, live: undefined, replay: undefined, event: undefined, note: `the live run's ${file} holds the very rows the replay made, but its manifest.json gives another digest for ${table}: the manifest or the table was changed after the run` };
  }
  const at = (rb ?? ra)!;
  const event = await findEvent(recording, String(at.session), Number(at.ingest_seq));
  return { table, row: i, live: ra && canonicalLine(ra, columns), replay: rb && canonicalLine(rb, columns), event };
}

async function findEvent(recording: string, session: string, ingestSeq: number): Promise<LogEvent | undefined> {
  for await (const ev of readArchive(await planArchive(recording, [session]))) if (ev.ingestSeq === ingestSeq) return ev;
  return undefined;
}
