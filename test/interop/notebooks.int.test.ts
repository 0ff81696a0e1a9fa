/**
 * The notebooks run headlessly on data tapedeck generates fresh (npm run notebooks), every
 * cell succeeds, the run prints no warnings, and each notebook draws its figures: real PNG
 * images that a reader can read. notebooks/plotting.py's show() attaches what each panel
 * shows (labels, legend, offset text, bars) to its PNG; figureProblems holds that to the
 * rules every figure keeps.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from '../helpers.ts';

interface Output { output_type: string; data?: Record<string, string>; metadata?: { 'tapedeck/axes'?: AxesFacts[] } }
interface Cell { cell_type: string; outputs?: Output[] }

/** One panel of a figure, as notebooks/plotting.py reports it. */
interface AxesFacts {
  title: string;
  xlabel: string;
  ylabel: string;
  /** False for the upper panels of a sharex stack, which show no x tick labels. */
  x_ticklabels: boolean;
  y_categorical: boolean;
  x_time: boolean;
  /** matplotlib's offset texts (`+1e5`, `1e6`) on x and y. */
  offsets: string[];
  legend: string[];
  /** Lines, collections and bar containers drawn on the panel. */
  drawn: number;
  bars: number;
  zero_bars: number;
}

/** What a reader would stumble on in one figure, one line per problem; [] when none. */
function figureProblems(panels: AxesFacts[]): string[] {
  return panels.flatMap((p, i) => {
    const name = `panel ${i + 1}${p.title ? ` "${p.title}"` : ''}`;
    const problems: string[] = [];
    if (!p.y_categorical && !p.ylabel.trim()) problems.push(`${name}: no y-axis label (say what and in which unit)`);
    if (p.x_ticklabels && !p.xlabel.trim()) problems.push(`${name}: no x-axis label`);
    for (const label of [p.xlabel, p.ylabel]) if (label.trim() === 'label') problems.push(`${name}: an axis is labelled "label" (a dataframe column name)`);
    if (p.x_time && p.x_ticklabels && !p.xlabel.includes('UTC')) problems.push(`${name}: a time axis that does not say UTC ("${p.xlabel}")`);
    for (const offset of p.offsets) if (offset) problems.push(`${name}: offset notation "${offset}" instead of plain numbers`);
    if (p.drawn > 1 && p.legend.length === 0) problems.push(`${name}: draws ${p.drawn} things and has no legend saying which is which`);
    if (p.bars > 0 && p.zero_bars * 2 > p.bars) problems.push(`${name}: ${p.zero_bars} of ${p.bars} bars are zero`);
    return problems;
  });
}

describe('notebooks', () => {
  it('figureProblems names what the figures of issue 14 got wrong', () => {
    // The backtest's equity panel and the data-quality bars as they were before issue 14.
    const equity: AxesFacts = { title: 'arb-taker · equity', xlabel: '', ylabel: '', x_ticklabels: false, y_categorical: false, x_time: true, offsets: ['', '+1e5'], legend: ['running peak'], drawn: 2, bars: 0, zero_bars: 0 };
    const drawdown: AxesFacts = { title: '', xlabel: '', ylabel: 'drawdown %', x_ticklabels: true, y_categorical: false, x_time: true, offsets: ['', ''], legend: [], drawn: 1, bars: 0, zero_bars: 0 };
    const quality: AxesFacts = { title: 'messages', xlabel: '', ylabel: 'label', x_ticklabels: true, y_categorical: true, x_time: false, offsets: ['', ''], legend: [], drawn: 1, bars: 4, zero_bars: 2 };
    expect(figureProblems([equity, drawdown])).toEqual([
      'panel 1 "arb-taker · equity": no y-axis label (say what and in which unit)',
      'panel 1 "arb-taker · equity": offset notation "+1e5" instead of plain numbers',
      'panel 2: no x-axis label',
      'panel 2: a time axis that does not say UTC ("")',
    ]);
    expect(figureProblems([quality])).toEqual([
      'panel 1 "messages": no x-axis label',
      'panel 1 "messages": an axis is labelled "label" (a dataframe column name)',
    ]);
    expect(figureProblems([{ ...quality, xlabel: 'messages', ylabel: '', zero_bars: 3 }]), 'more than half the bars zero').toEqual(['panel 1 "messages": 3 of 4 bars are zero']);
  });

  it('execute on fresh demo data, quietly, and draw figures a reader can read', () => {
    const out = tmpDir('tapedeck-notebooks-');
    const run = spawnSync('bash', [path.join(ROOT, 'notebooks/run.sh'), out], { encoding: 'utf8', timeout: 900_000, env: { ...process.env, TAPEDECK_DEMO_MINUTES: '30' } });
    expect(run.status, `npm run notebooks failed:\n${run.stderr}`).toBe(0);
    // Kernel log lines ("[IPKernelApp] WARNING | Kernel is running over TCP without encryption",
    // "ERROR | KeyboardInterrupt caught in kernel") and papermill's parameter warnings.
    const noise = run.stderr.split('\n').filter((line) => /^\[IPKernelApp\]|Passed unknown parameter/.test(line));
    expect(noise, 'run.sh passes each notebook only its declared parameters; execute.py encrypts and does not interrupt the kernel').toEqual([]);
    const expected: Record<string, number> = { market_overview: 4, raw_log: 2, backtest: 3 };
    for (const [nb, figures] of Object.entries(expected)) {
      const cells = (JSON.parse(fs.readFileSync(path.join(out, `${nb}.ipynb`), 'utf8')) as { cells: Cell[] }).cells;
      const outputs = cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error'), `${nb}: no cell failed`).toEqual([]);
      const images = outputs.filter((o) => o.data?.['image/png'] !== undefined);
      expect(images.length, `${nb}: figures drawn`).toBeGreaterThanOrEqual(figures);
      for (const [i, img] of images.entries()) {
        expect(Buffer.from(img.data!['image/png']!, 'base64').subarray(1, 4).toString(), `${nb}: a PNG`).toBe('PNG');
        const panels = img.metadata?.['tapedeck/axes'];
        expect(panels, `${nb} figure ${i + 1}: drawn with plotting.show(), which reports its panels`).toBeDefined();
        expect(figureProblems(panels!), `${nb} figure ${i + 1}`).toEqual([]);
      }
    }
  }, 900_000);
});
