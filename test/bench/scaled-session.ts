/**
 * A bigger hftbacktest recording from a real one, for import figures at scale (the bench,
 * test/bench/import-profile.ts --scale N).
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/** The session's lines `n` times over as one gzip file, each copy shifted past the previous one. */
export async function scaledSession(inputs: string[], n: number, dir: string): Promise<string> {
  const lines = inputs.flatMap((f) => zlib.gunzipSync(fs.readFileSync(f)).toString('utf8').split('\n')).filter((l) => l !== '');
  const ns = (l: string): bigint => BigInt(l.slice(0, l.indexOf(' ')));
  const span = ns(lines.at(-1)!) - ns(lines[0]!) + 1_000_000n;
  const file = path.join(dir, 'btcusdt_20240808.gz');
  const gz = zlib.createGzip({ level: 1 });
  const done = pipeline(gz, fs.createWriteStream(file));
  for (let k = 0n; k < BigInt(n); k++) {
    const text = lines.map((l) => `${ns(l) + k * span}${l.slice(l.indexOf(' '))}`).join('\n');
    if (!gz.write(`${text}\n`)) await once(gz, 'drain');
  }
  gz.end();
  await done;
  return file;
}
