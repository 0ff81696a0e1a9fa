/**
 * The notebooks run headlessly on data tapedeck generates fresh (npm run notebooks), every
 * cell succeeds, and each draws its figures: real PNG images in the executed notebook.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from '../helpers.ts';

interface Cell { cell_type: string; outputs?: { output_type: string; data?: Record<string, string> }[] }

describe('notebooks', () => {
  it('execute on fresh demo data and produce their figures', () => {
    const out = tmpDir('tapedeck-notebooks-');
    execFileSync('bash', [path.join(ROOT, 'notebooks/run.sh'), out], { encoding: 'utf8', timeout: 900_000, env: { ...process.env, TAPEDECK_DEMO_MINUTES: '30' } });
    const expected: Record<string, number> = { market_overview: 4, raw_log: 2, backtest: 3 };
    for (const [nb, figures] of Object.entries(expected)) {
      const cells = (JSON.parse(fs.readFileSync(path.join(out, `${nb}.ipynb`), 'utf8')) as { cells: Cell[] }).cells;
      const outputs = cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error'), `${nb}: no cell failed`).toEqual([]);
      const images = outputs.filter((o) => o.data?.['image/png'] !== undefined);
      expect(images.length, `${nb}: figures drawn`).toBeGreaterThanOrEqual(figures);
      for (const img of images) expect(Buffer.from(img.data!['image/png']!, 'base64').subarray(1, 4).toString(), `${nb}: a PNG`).toBe('PNG');
    }
  }, 900_000);
});
