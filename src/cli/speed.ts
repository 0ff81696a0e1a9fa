/** `--speed` of `replay` and `simulate --from`: a pace factor within SPEED_RANGE, or `max`. */
import { SPEED_RANGE, inSpeedRange, parseSpeed, type Speed } from '../../replayer/pace.ts';
import { UserError, userInput } from './errors.ts';

/** The factors a paced replay or re-served recording takes (the pacer's bound, shared with `_control`'s speed). */
export { SPEED_RANGE };

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
  if (inSpeedRange(speed)) return speed;
  throw new UserError(`bad --speed ${JSON.stringify(text)} (a factor from ${SPEED_RANGE.min}x to ${SPEED_RANGE.max}x${or})`);
}
