import { TapedeckError } from '../errors.ts';

/** A problem with what the user asked for: printed as one line, exit code 2. */
export class UserError extends TapedeckError {}

/** Runs `fn`, turning a thrown Error from a parser into a UserError with the same words. */
export function userInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/** `name=value` → [name, value]; both parts must be there (`usage` says how, e.g. `name=a,b,c`). */
export function nameValue(text: string, flag: string, usage: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) throw new UserError(`bad ${flag} ${JSON.stringify(text)} (use ${usage})`);
  return [text.slice(0, i), text.slice(i + 1)];
}

/** A TCP port to listen on; 0 asks the system for any free one. */
export function checkPort(flag: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`bad ${flag} ${port} (0 to 65535; 0: any free port)`);
  return port;
}

/** A duration option that must be above 0 (0 ticked, pinged or disconnected on every turn of the event loop); `ms` as parsed from `text`. */
export function aboveZero(flag: string, text: string, ms: number): number {
  if (!(ms > 0)) throw new UserError(`bad ${flag} ${text} (a duration above 0, e.g. 1s)`);
  return ms;
}

const LISTEN_FAULTS: Record<string, string> = {
  EADDRINUSE: 'is in use', EACCES: 'is not permitted', EADDRNOTAVAIL: 'is not an address of this machine',
};

/**
 * A listen() that failed because of the address the user chose (in use, not permitted, not
 * on this machine) becomes a UserError naming it and the option to change: the remedy is
 * a different argument, as with any bad input. Anything else is rethrown.
 */
export function listenError(err: unknown, host: string, port: number, flags: string): never {
  const e = err as NodeJS.ErrnoException;
  // A host that resolves to nothing fails in the lookup listen() makes first.
  if (e.syscall === 'getaddrinfo') throw new UserError(`host ${host} is not a name or address this machine can resolve (choose another with ${flags})`);
  const why = e.syscall === 'listen' ? LISTEN_FAULTS[e.code ?? ''] : undefined;
  if (why === undefined) throw err;
  throw new UserError(`port ${port} on ${host} ${why} (choose another with ${flags}; port 0 takes any free one)`);
}

/**
 * An environment switch that overrides a default for side-by-side measurement: unset or
 * empty is undefined, `0` false, `1` true, anything else one clear line.
 */
export function envSwitch(name: string, off: string, on: string): boolean | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (v !== '0' && v !== '1') throw new UserError(`bad ${name} ${JSON.stringify(v)} (0: ${off}, 1: ${on})`);
  return v === '1';
}
