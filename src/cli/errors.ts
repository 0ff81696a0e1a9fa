/** A problem with what the user asked for: printed as one line, exit code 2. */
export class UserError extends Error {}

/** Runs `fn`, turning a thrown Error from a parser into a UserError with the same words. */
export function userInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}
