/**
 * A strategy's `needs()` is held to the rules of the options it adds to (`--windows`, `--sma`,
 * `--ema`, `--rsi`) before any replay. Before, `windowsMs: [-5]` looped until the heap ran
 * out (exit 134 after ~50 s), `[0]` failed with "Division by zero", `[1.5]` with a BigInt
 * error, and `[NaN]`, `['1m']`, `[7000]`, `sma: [0]`, `rsi: -1` ran to exit 0 recording
 * nonsense ("NaNms").
 */
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../src/errors.ts';
import { NeedsError, strategyNeeds } from '../../strategies/needs.ts';
import { resolveParams } from '../../strategies/params.ts';
import { BUILT_IN } from '../../strategies/registry.ts';
import type { Strategy } from '../../strategies/types.ts';

const needing = (needs: () => unknown): Strategy =>
  ({ name: 'mine', describe: 'm', params: { size: { default: 0.5, describe: 's' } }, needs, init: () => ({}), decide: (_e, state) => ({ state, orders: [] }) }) as Strategy;

/** What strategyNeeds refuses `needs` with (failing the test when it takes it). */
function refusal(needs: () => unknown): string {
  try {
    strategyNeeds(needing(needs), { size: 0.5 });
  } catch (err) {
    expect(err, 'a refusal of bad input (exit 2)').toBeInstanceOf(NeedsError);
    expect((err as TapedeckError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error(`took ${JSON.stringify(needs())}`);
}

describe('a strategy\'s needs()', () => {
  it('of every built-in strategy pass, for its defaults', () => {
    for (const s of Object.values(BUILT_IN)) expect(() => strategyNeeds(s, resolveParams(s, {})), s.name).not.toThrow();
  });

  it('takes what the command-line options take', () => {
    const ok = { windowsMs: [1_000, 1_500, 60_000, 86_400_000], sma: [1, 200], ema: [3], rsi: 2 };
    expect(strategyNeeds(needing(() => ok), {})).toEqual(ok);
    expect(strategyNeeds(needing(() => ({})), {})).toEqual({});
  });

  it.each([
    ['a negative window (an endless loop)', { windowsMs: [-5] }, /^strategy mine's needs\(\) returned windowsMs \[-5\]: -5 is not a window the engine makes: whole ms, 1000 \(1s\) or more, dividing a day evenly, as --windows takes$/],
    ['a window of 0 (division by zero)', { windowsMs: [0] }, /windowsMs \[0\]: 0 is not a window/],
    ['a fraction of a ms (a BigInt error)', { windowsMs: [1.5] }, /windowsMs \[1\.5\]: 1\.5 is not a window/],
    ['a fraction of a ms that divides a day', { windowsMs: [42_187.5] }, /42187\.5 is not a window/],
    ['NaN ("NaNms" in the manifest)', { windowsMs: [60_000, NaN] }, /windowsMs \[60000, NaN\]: NaN is not a window/],
    ['a duration as text', { windowsMs: ['1m'] }, /windowsMs \["1m"\]: "1m" is not a window/],
    ['a window that does not divide a day', { windowsMs: [7_000] }, /7000 is not a window/],
    ['one window, not a list', { windowsMs: 60_000 }, /returned windowsMs 60000, not a list \(e\.g\. windowsMs: \[60000\]\)$/],
    ['an SMA period of 0', { sma: [0] }, /returned sma \[0\]: 0 is not an SMA period: a whole number of candles, 1 or more, as --sma takes$/],
    ['an EMA period that is no whole number', { ema: [2.5] }, /returned ema \[2\.5\]: 2\.5 is not an EMA period/],
    ['a hole in a list', { ema: [5, , 9] }, /returned ema \[5, undefined, 9\]: undefined is not an EMA period/],
    ['an RSI period of -1', { rsi: -1 }, /returned rsi -1, not an RSI period: a whole number of candles, 2 or more, as --rsi takes$/],
    ['an RSI period of 1', { rsi: 1 }, /returned rsi 1, not an RSI period/],
    ['a field of another name (a typo is not silently nothing)', { windows: [60_000] }, /returned windows, which is none of windowsMs, sma, ema, rsi$/],
    ['no object', null, /returned null, not \{ windowsMs\?, sma\?, ema\?, rsi\? \}$/],
    ['nothing', undefined, /returned undefined, not \{/],
  ])('that asks for %s is refused in one line naming the strategy', (_what, needs, message) => {
    const m = refusal(() => needs);
    expect(m).toMatch(message);
    expect(m).not.toContain('\n');
  });

  it('that throws is refused in one line, whatever it throws', () => {
    expect(refusal(() => {
      throw new Error('no interval\nsecond line');
    })).toBe('strategy mine\'s needs() threw: no interval');
    expect(refusal(() => {
      throw Object.assign(Object.create(null), { why: 1n });
    })).toBe('strategy mine\'s needs() threw: {"why":"1n"}');
  });

  it('is handed the parameters frozen: it cannot change the values the run records', () => {
    const params = { size: 0.5 };
    const s = needing(() => ({}));
    const mutating = { ...s, needs: (p: Record<string, unknown>) => ((p.size = 7), {}) } as Strategy;
    expect(() => strategyNeeds(mutating, params)).toThrow(/needs\(\) threw: Cannot assign to read only property 'size'/);
    expect(params.size).toBe(0.5);
  });
});
