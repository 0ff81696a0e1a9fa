/**
 * A worker's entry without tsx (replayer/worker-entry.ts): the TypeScript is bundled once
 * and the bundle runs in a worker as the sources would; a source that changes is rebuilt;
 * anything the bundle cannot serve falls back to the tsx entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundledEntry, workerEntry } from '../../replayer/worker-entry.ts';
import { planArchive } from '../../replayer/read.ts';
import type { WireMessage } from '../../replayer/read-wire.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { tmpDir } from '../helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A worker module in TypeScript posting what its (relative, TypeScript) dependency gives. */
function project(answer: string): { dir: string; entry: URL; fallback: URL; cache: string } {
  const dir = tmpDir('tapedeck-we-');
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'answer.ts'), `export const answer = (n: number): string => ${JSON.stringify(answer)} + n;\n`);
  fs.writeFileSync(path.join(dir, 'entry.ts'), "import { parentPort } from 'node:worker_threads';\nimport { answer } from './answer.ts';\nparentPort!.postMessage(answer(1));\n");
  fs.writeFileSync(path.join(dir, 'fallback.mjs'), "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('fallback');\n");
  return { dir, entry: pathToFileURL(path.join(dir, 'entry.ts')), fallback: pathToFileURL(path.join(dir, 'fallback.mjs')), cache: path.join(dir, 'cache') };
}

async function run(url: URL): Promise<unknown> {
  const w = new Worker(url);
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

describe('worker entry without tsx', () => {
  it('the archive reader thread starts from either entry, its bundle or tsx, and reads the same', async () => {
    const dir = tmpDir('tapedeck-we-');
    dirs.push(dir);
    const events = simulateSession({ seed: 3, startMs: Date.UTC(2024, 7, 9), durationMs: 20_000, exchanges: ['binance', 'coinbase'], session: 'we-3' });
    const w = new ArchiveWriter(dir, 'we-3');
    for (const ev of events) w.write(ev);
    w.close();
    const plan = await planArchive(dir);
    const read = async (url: URL): Promise<number> => {
      const worker = new Worker(url, { workerData: { plan, range: {} } });
      let n = 0;
      try {
        for (;;) {
          const m = await new Promise<WireMessage>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
          });
          if ('done' in m) return n;
          if ('error' in m) throw new Error(m.error.message);
          n += m.batch.n;
          worker.postMessage(1);
        }
      } finally {
        await worker.terminate();
      }
    };
    const bundle = bundledEntry(new URL('../../replayer/read-thread.worker.ts', import.meta.url));
    expect(bundle).toBeDefined();
    expect(await read(bundle!)).toBe(events.length);
    expect(await read(new URL('../../replayer/read-thread.worker.mjs', import.meta.url))).toBe(events.length);
  });

  it('bundles the TypeScript once; the bundle runs in a plain worker and is reused while the sources stand still', async () => {
    const p = project('forty-');
    const url = workerEntry(p.entry, p.fallback, p.cache);
    expect(url.href.startsWith(pathToFileURL(p.cache).href)).toBe(true);
    expect(await run(url)).toBe('forty-1');
    const mtime = fs.statSync(url).mtimeMs;
    // As another process would (past this one's memo): the stamps say fresh, nothing is rebuilt.
    expect(bundledEntry(p.entry, p.cache)?.href).toBe(url.href);
    expect(fs.statSync(url).mtimeMs).toBe(mtime);
  });

  it('rebuilds when a source file changes, or when its stamps are unreadable', async () => {
    const p = project('old-');
    expect(await run(workerEntry(p.entry, p.fallback, p.cache))).toBe('old-1');
    fs.writeFileSync(path.join(p.dir, 'answer.ts'), 'export const answer = (n: number): string => "new-" + (n + 1);\n');
    expect(await run(bundledEntry(p.entry, p.cache)!)).toBe('new-2');
    const stamps = fs.readdirSync(p.cache).find((f) => f.endsWith('.json'))!;
    fs.writeFileSync(path.join(p.cache, stamps), '[{"file":');
    const bundle = bundledEntry(p.entry, p.cache);
    expect(bundle).toBeDefined();
    expect(await run(bundle!)).toBe('new-2');
    expect(() => JSON.parse(fs.readFileSync(path.join(p.cache, stamps), 'utf8')) as unknown).not.toThrow();
  });

  it('bundles a source saved in the millisecond its build starts (its mtime is finer than Date.now())', async () => {
    const p = project('now-');
    // The kernel stamps a file saved in millisecond T at T + a fraction; the build that starts
    // in the same millisecond reads Date.now() = T.
    const t = Date.now();
    fs.utimesSync(path.join(p.dir, 'answer.ts'), (t + 0.5) / 1000, (t + 0.5) / 1000);
    vi.spyOn(Date, 'now').mockImplementationOnce(() => t);
    const url = workerEntry(p.entry, p.fallback, p.cache);
    vi.restoreAllMocks();
    expect(url.href).not.toBe(p.fallback.href);
    expect(await run(url)).toBe('now-1');
  });

  it('falls back to the tsx entry for a module that needs its own location, or a cache it cannot write', async () => {
    const p = project('x');
    fs.writeFileSync(path.join(p.dir, 'answer.ts'), 'export const answer = (n: number): string => new URL(".", import.meta.url).href + n;\n');
    expect(workerEntry(p.entry, p.fallback, p.cache).href).toBe(p.fallback.href);
    const q = project('y');
    fs.writeFileSync(path.join(q.dir, 'not-a-dir'), '');
    expect(workerEntry(q.entry, q.fallback, path.join(q.dir, 'not-a-dir', 'cache')).href).toBe(q.fallback.href);
    expect(await run(q.fallback)).toBe('fallback');
  });
});
