/** A plain WebSocket client of the simulator for the protocol tests: every frame it gets, its close code, the frames as JSON. */
import WebSocket from 'ws';

export async function connect(url: string) {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (d) => frames.push(String(d)));
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  const parsed = (): Record<string, unknown>[] => frames.map((f) => JSON.parse(f) as Record<string, unknown>);
  return { ws, frames, closed, parsed };
}
