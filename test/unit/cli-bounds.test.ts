/**
 * The CLI's bounds on what would run without end: `--speed`'s range (its ends are factors a
 * user may give, and `max` stays where it means something; the simulator's `_control` speed
 * holds to the same one) and a `--sweep` grid: its size, and its ranges (a..b:step).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseControl } from '../../replayer/simulator/hooks.ts';
import { UserError } from '../../src/cli/errors.ts';
import { SPEED_RANGE, paceFactor, speedOption } from '../../src/cli/speed.ts';
import { sweepGrid } from '../../src/cli/sweep.ts';
import { equityInterval, executionConfig, type StrategyArgs } from '../../src/cli/strategy-options.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';

describe('--speed', () => {
  it.each([['0.01x', 0.01], ['0.5x', 0.5], ['1x', 1], ['50', 50], ['10000x', 10_000]])('takes %s, within the range', (text, want) => {
    expect(speedOption(text)).toBe(want);
    expect(paceFactor(text)).toBe(want);
  });

  it('keeps max for replay', () => expect(speedOption('max')).toBe('max'));

  it.each(['0.0099x', '0.0000001x', '10000.5x', '1000000x'])('refuses %s, outside the range, naming it', (text) => {
    const range = `a factor from ${SPEED_RANGE.min}x to ${SPEED_RANGE.max}x`;
    expect(() => speedOption(text)).toThrow(new UserError(`bad --speed "${text}" (${range}, or max)`));
    expect(() => paceFactor(text)).toThrow(new UserError(`bad --speed "${text}" (${range})`));
  });
});

describe("the simulator's POST /_control speed", () => {
  const control = (speed: unknown) => () => parseControl({ action: 'speed', speed });

  it.each([0.01, 1, 10_000])('takes %s, within --speed\'s range', (speed) => {
    expect(parseControl({ action: 'speed', speed })).toEqual({ action: 'speed', speed });
  });

  it.each([0.0099, 0.000001, 0, -1, 10_000.5, Infinity, '5'])('refuses %s, naming the range --speed takes', (speed) => {
    expect(control(speed)).toThrow(new Error(`speed needs "speed", a factor from ${SPEED_RANGE.min} to ${SPEED_RANGE.max} (as --speed takes)`));
  });

  it('takes exactly the factors simulate --speed takes (one bound, not two)', () => {
    // Doubles written without an exponent, as --speed is typed (0.001 to 20000 stays so).
    fc.assert(fc.property(fc.double({ min: 0.001, max: 20_000, noNaN: true }), (speed) => {
      const cli = ((): boolean => { try { paceFactor(`${speed}x`); return true; } catch { return false; } })();
      const sim = ((): boolean => { try { control(speed)(); return true; } catch { return false; } })();
      expect(sim, `${speed}: _control ${sim ? 'takes' : 'refuses'} it, --speed ${cli ? 'takes' : 'refuses'} it`).toBe(cli);
    }), { numRuns: 2_000 });
  });
});

describe('--sweep', () => {
  const values = (n: number): string => Array.from({ length: n }, (_, i) => i + 1).join(',');

  it('takes a grid of up to 1,000 runs by default', () => {
    expect(sweepGrid([`fast=${values(10)}`, `slow=${values(100)}`], 1_000)).toEqual({ fast: values(10).split(','), slow: values(100).split(',') });
  });

  it('refuses a larger grid before any run, saying how many runs it makes and the bound', () => {
    expect(() => sweepGrid([`fast=${values(300)}`, `slow=${values(300)}`], 1_000))
      .toThrow(new UserError('--sweep makes 90,000 runs (fast 300 × slow 300), more than 1,000: sweep fewer values, or allow them with --max-runs 90000'));
  });

  it('takes a larger grid when --max-runs allows it, and holds a smaller --max-runs', () => {
    expect(Object.keys(sweepGrid([`fast=${values(300)}`, `slow=${values(300)}`], 90_000))).toEqual(['fast', 'slow']);
    expect(() => sweepGrid(['fast=3,5', 'slow=10,20,30'], 4)).toThrow(new UserError('--sweep makes 6 runs (fast 2 × slow 3), more than 4 (--max-runs): sweep fewer values, or allow them with --max-runs 6'));
  });

  it('refuses a parameter swept twice (the second list replaced the first without a word)', () => {
    expect(() => sweepGrid(['fast=3,5', 'slow=10', 'fast=8'], 1_000)).toThrow(new UserError('--sweep fast is given twice (fast=3,5 and fast=8): give its values once, e.g. fast=3,5,8'));
  });

  it.each([0, -1, 2.5])('refuses --max-runs %s', (n) => {
    expect(() => sweepGrid([], n)).toThrow(new UserError(`bad --max-runs ${n} (a whole number of runs, 1 or more)`));
  });
});

describe('--sweep a..b:step', () => {
  it.each([
    ['fast=5..20:5', ['5', '10', '15', '20']],
    ['fast=0.1..0.5:0.1', ['0.1', '0.2', '0.3', '0.4', '0.5']],
    ['fast=5..21:5', ['5', '10', '15', '20']],
    ['fast=1.50..2:0.25', ['1.5', '1.75', '2']],
    ['fast=-1..1:0.5', ['-1', '-0.5', '0', '0.5', '1']],
    ['fast=7..7:3', ['7']],
  ])('%s gives exact decimals up to b', (spec, want) => {
    expect(sweepGrid([spec], 1_000)).toEqual({ fast: want });
  });

  it('mixes with lists in one grid', () => {
    expect(sweepGrid(['fast=3,5', 'slow=10..30:10'], 1_000)).toEqual({ fast: ['3', '5'], slow: ['10', '20', '30'] });
  });

  it.each([
    ['fast=5..20:0', 'the step of a range must be above 0'],
    ['fast=5..20:-5', 'the step of a range must be above 0'],
    ['fast=20..5:5', 'a range runs upwards: 20 is above 5'],
    ['fast=x..20:5', 'a range is a..b:step in decimal numbers, e.g. fast=5..20:5'],
    ['fast=5..20', 'a range is a..b:step in decimal numbers, e.g. fast=5..20:5'],
    ['fast=5..2e1:5', 'a range is a..b:step in decimal numbers, e.g. fast=5..20:5'],
    ['fast=5..20:.5', 'a range is a..b:step in decimal numbers, e.g. fast=5..20:5'],
  ])('refuses %s: %s', (spec, why) => {
    expect(() => sweepGrid([spec], 1_000)).toThrow(new UserError(`bad --sweep "${spec}" (${why})`));
  });

  it('counts a range against --max-runs before making its values (a range of 10^11 is refused, not built)', () => {
    expect(() => sweepGrid(['fast=1..100000000000:1'], 1_000))
      .toThrow(new UserError('--sweep makes 100,000,000,000 runs (fast 100000000000), more than 1,000: sweep fewer values, or allow them with --max-runs 100000000000'));
    expect(() => sweepGrid(['fast=3,5', 'slow=0.1..0.5:0.1'], 9))
      .toThrow(new UserError('--sweep makes 10 runs (fast 2 × slow 5), more than 9 (--max-runs): sweep fewer values, or allow them with --max-runs 10'));
  });

  it('refuses a range swept twice, without suggesting a merged list it cannot write', () => {
    expect(() => sweepGrid(['fast=1..5:1', 'fast=8'], 1_000)).toThrow(new UserError('--sweep fast is given twice (fast=1..5:1 and fast=8): give its values once'));
  });
});

describe('the strategy options\' numbers', () => {
  const args = (over: Partial<StrategyArgs>): StrategyArgs => ({ param: [], latency: '50ms', capital: 100_000, 'maker-fees': '', ...over });
  const huge = `1${'0'.repeat(400)}`;

  it.each([Infinity, -Infinity, NaN, 0, -5])('refuses --capital %s (1e400 reads as Infinity, which passed "above 0")', (capital) => {
    expect(() => executionConfig(args({ capital }), DEFAULT_CONFIG)).toThrow(new UserError(`bad --capital ${capital} (a positive, finite amount)`));
  });

  it('refuses a --latency too long to be a number (Infinity failed the strategy\'s first order as a "bad order")', () => {
    expect(() => executionConfig(args({ latency: `${huge}ms` }), DEFAULT_CONFIG)).toThrow(new UserError(`bad --latency ${huge}ms (a finite duration, e.g. 50ms)`));
  });

  it('refuses an --equity-interval past whole ms (Infinity is not a step)', () => {
    for (const text of [`${huge}s`, '9999999999999999ms']) {
      expect(() => equityInterval(args({ 'equity-interval': text }))).toThrow(new UserError(`bad --equity-interval ${text} (too long to count in whole ms: a duration above 0 such as 10s or 1m)`));
    }
  });

  it('takes ordinary values', () => {
    expect(executionConfig(args({ capital: 1e9, latency: '0ms' }), DEFAULT_CONFIG)).toMatchObject({ initialCash: 1e9, latencyMs: 0 });
    expect(equityInterval(args({ 'equity-interval': '1m' }))).toBe(60_000);
  });
});
