/** One backtest of a sweep, in a worker thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { TapedeckError } from '../src/errors.ts';
import { backtest, type BacktestJob } from './backtest.ts';

const { startNs, endNs, ...job } = workerData as Omit<BacktestJob, 'startNs' | 'endNs'> & { startNs?: string; endNs?: string };
try {
  const { report } = await backtest({ ...job, ...(startNs ? { startNs: BigInt(startNs) } : {}), ...(endNs ? { endNs: BigInt(endNs) } : {}) });
  parentPort!.postMessage({ report });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message, ...(err instanceof TapedeckError ? { exitCode: err.exitCode } : {}) });
}
