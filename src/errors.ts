/**
 * An error the user can act on (bad input, an archive that is not one, a recording that
 * cannot start): the CLI prints its message as one line, without a stack trace, and exits
 * with `exitCode` (2 for bad input, the default; 1 for a run that failed).
 *
 * Its own module, with no imports, so that the CLI can tell these errors apart without
 * loading the modules that throw them (start-up time: issue 9).
 */
export class TapedeckError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
