/** The raw command line before and beside yargs: the two things its parser loses. */
import { UserError } from './errors.ts';

/**
 * yargs reads a token that starts with `-` as options even right after an option that takes
 * a value: `--speed -5x` becomes the flags `-5` and `-x` ("Unknown arguments: 5, x"). Such a
 * token after a `--name` is the value the user meant, so it is attached (`--speed=-5x`) and
 * the option's own check says what is wrong with it and what to type instead.
 */
export function attachDashValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const prev = out.at(-1);
    if (/^-\d/.test(args[i]!) && prev !== undefined && /^--[a-z][a-z0-9-]*$/i.test(prev) && !args.slice(0, i).includes('--')) {
      out[out.length - 1] = `${prev}=${args[i]}`;
    } else out.push(args[i]!);
  }
  return out;
}

/** The text given for `--key` (`--key v` or `--key=v`), for messages about it. */
export function rawValue(args: readonly string[], key: string): string | undefined {
  return rawValues(args, key)[0];
}

/**
 * A numeric option given text yargs cannot read arrives as NaN; this names the option and
 * echoes what was typed, instead of a later check printing `NaN`.
 */
export function rejectNaN(argv: Record<string, unknown>, args: readonly string[]): void {
  for (const [key, value] of Object.entries(argv)) {
    if (typeof value !== 'number' || !Number.isNaN(value) || /[A-Z]/.test(key)) continue;
    throw new UserError(`bad --${key} ${JSON.stringify(rawValue(args, key) ?? String(value))}: not a number`);
  }
}

/**
 * yargs turns an option given twice into an array of both values, which every later check
 * took for one value: `--ui-host 127.0.0.1 --ui-host ::1` listened on every interface,
 * `--out a --out b` failed with an internal error. An option that is not repeatable
 * (`arrays`: those declared `array: true`, such as `--param`) is refused when given more
 * than once, naming it and its values.
 */
export function rejectRepeats(argv: Record<string, unknown>, arrays: ReadonlySet<string>, args: readonly string[]): void {
  for (const [key, value] of Object.entries(argv)) {
    if (!Array.isArray(value) || key === '_' || arrays.has(key) || /[A-Z]/.test(key)) continue;
    // What was typed (a number yargs could not read is NaN in `value`).
    const typed = rawValues(args, key);
    const shown = typed.length === value.length ? typed : value.map(String);
    throw new UserError(`--${key} is given ${value.length} times (${shown.map((v) => JSON.stringify(v)).join(', ')}): give it once`);
  }
}

/** Every text given for `--key` (`--key v` or `--key=v`), in order. */
export function rawValues(args: readonly string[], key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${key}` && args[i + 1] !== undefined) out.push(args[++i]!);
    else if (args[i]!.startsWith(`--${key}=`)) out.push(args[i]!.slice(key.length + 3));
  }
  return out;
}
