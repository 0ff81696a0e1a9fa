/**
 * An HTTP answer to give instead of going on: the simulator's HTTP edge
 * (replayer/simulator/server.ts) catches it and replies with its status and message. Thrown
 * by the request guards (replayer/simulator/http-guard.ts) and by the exchanges' REST routes.
 */
export class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** `decodeURIComponent`, or a 400 refusal for malformed percent-encoding. */
export function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpRefusal(400, `malformed percent-encoding in ${JSON.stringify(part.slice(0, 200))}`);
  }
}
