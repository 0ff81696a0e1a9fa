/** `--speed` of `replay` and `simulate --from`: a pace factor within SPEED_RANGE, or `max`. */
import { parseSpeed, type Speed } from '../../replayer/pace.ts';
import { UserError, userInput } from './errors.ts';

/**
 * The factors a paced replay or re-served recording takes. Below 0.01x a second of the
 * recording takes more than 100 s to play (0.0000001x turned a minute into 19 years: a typo
 * that never ends, not a pace; the façade's `pause` is the way to hold a playback still).
 * Above 10,000x a recorded millisecond is played in 0.1 µs, below what any timer or
 * socket paces: `max` says what such a factor means, and is not refused where it applies.
 */
export const SPEED_RANGE = { min: 0.01, max: 10_000 } as const;

/** `replay --speed`: a factor within SPEED_RANGE, or `max`; anything else is one line naming the range. */
export function speedOption(text: string): Speed {
  const speed = userInput(() => parseSpeed(text));
  return speed === 'max' ? speed : inRange(speed, text, ', or max');
}

/** `simulate --speed`: a factor within SPEED_RANGE; a live server paces what it serves, so `max` has no meaning there. */
export function paceFactor(text: string): number {
  const speed = userInput(() => parseSpeed(text));
  if (speed === 'max') throw new UserError('--speed max makes no sense for a live server: give a factor, e.g. 50x');
  return inRange(speed, text, '');
}

function inRange(speed: number, text: string, or: string): number {
  if (speed >= SPEED_RANGE.min && speed <= SPEED_RANGE.max) return speed;
  throw new UserError(`bad --speed ${JSON.stringify(text)} (a factor from ${SPEED_RANGE.min}x to ${SPEED_RANGE.max}x${or})`);
}
