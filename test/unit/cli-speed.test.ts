/** `--speed`'s range: its ends are factors a user may give, and `max` stays where it means something. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/cli/errors.ts';
import { SPEED_RANGE, paceFactor, speedOption } from '../../src/cli/speed.ts';

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
