/** The command line before yargs: dash-led values stay values, and typed text is found again for messages. */
import { describe, expect, it } from 'vitest';
import { attachDashValues, rawValue, rejectNaN, rejectRepeats } from '../../src/cli/argv.ts';
import { UserError } from '../../src/cli/errors.ts';

describe('attachDashValues', () => {
  it.each([
    [['replay', '--speed', '-5x'], ['replay', '--speed=-5x']],
    [['demo', '--minutes', '-1', '--seed', '7'], ['demo', '--minutes=-1', '--seed', '7']],
    [['replay', '--windows', '-1m,5m'], ['replay', '--windows=-1m,5m']],
  ])('%j → %j', (args, want) => expect(attachDashValues(args)).toEqual(want));

  it.each([
    [['replay', '-5x']],                       // no option before it: yargs' own message stands
    [['replay', '--speed=2x', '-5']],          // the option already has its value
    [['import', '--', '--format', '-1.gz']],   // after `--` everything is positional
    [['replay', '--speed', '-x']],             // a flag, not a negative-looking value
  ])('leaves %j alone', (args) => expect(attachDashValues(args)).toEqual(args));
});

describe('rawValue and rejectNaN', () => {
  it('finds what was typed in either form', () => {
    expect(rawValue(['--port', 'abc'], 'port')).toBe('abc');
    expect(rawValue(['--port=abc'], 'port')).toBe('abc');
    expect(rawValue(['--ports', 'x'], 'port')).toBeUndefined();
  });

  it('names the option and echoes the text of a number that is not one', () => {
    expect(() => rejectNaN({ port: Number.NaN, metricsPort: Number.NaN, 'metrics-port': 9464 }, ['--port', 'abc'])).toThrow(new UserError('bad --port "abc": not a number'));
    expect(() => rejectNaN({ port: 9100, seed: 42, out: 'x' }, [])).not.toThrow();
  });
});

describe('rejectRepeats', () => {
  it('names an option given twice with what was typed, and leaves lists and single values alone', () => {
    expect(() => rejectRepeats({ port: [Number.NaN, 1], 'metrics-port': 9464 }, new Set(), ['--port', 'abc', '--port=1'])).toThrow(new UserError('--port is given 2 times ("abc", "1"): give it once'));
    expect(() => rejectRepeats({ param: ['a=1', 'b=2'], out: 'x', _: ['replay', 'more'] }, new Set(['param']), [])).not.toThrow();
  });
});
