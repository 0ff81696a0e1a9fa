/**
 * One local consumer for the flood bench, in its own process so that each exchange's reader
 * has a thread of its own: connects to argv[2], sends argv[3] (a subscribe) if given, counts
 * frames without decoding them, prints `open` once connected and the count on SIGTERM.
 */
import WebSocket from 'ws';

const ws = new WebSocket(process.argv[2]!);
let frames = 0;
ws.on('message', () => frames++);
ws.on('error', (err) => {
  console.error(`flood consumer: ${err.message}`);
  process.exit(1);
});
ws.on('open', () => {
  if (process.argv[3]) ws.send(process.argv[3]);
  console.log('open');
});
process.on('SIGTERM', () => {
  console.log(`frames ${frames}`);
  process.exit(0);
});
