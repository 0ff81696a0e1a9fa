/**
 * One local consumer for the flood bench, in its own process: connects to argv[2] (ws://),
 * sends argv[3] (a subscribe) if given, counts the server's frames, prints `open` once
 * connected and the count on SIGTERM. It answers pings, as a client must.
 *
 * It reads the WebSocket framing itself (RFC 6455 §5.2: each frame's header gives its
 * length; the payload is skipped unread) instead of using `ws`, whose receiver validates and
 * copies every frame's UTF-8 text: two `ws` consumers on the core the simulator leaves read
 * ~93k frames/s, so the bench measured them, not the simulator. This one costs a header
 * read per frame.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const url = new URL(process.argv[2]!);
const subscribe = process.argv[3];
let frames = 0;

/** A client's frame (opcode 0x1 text, 0xA pong): masked, as RFC 6455 requires of clients. */
function clientFrame(opcode: number, data: Buffer): Buffer {
  const payload = Buffer.from(data);
  const len = payload.length;
  if (len > 0xffff) throw new Error('client frame too long');
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const mask = randomBytes(4);
  for (let i = 0; i < len; i++) payload[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, payload]);
}

const socket = net.connect(Number(url.port), url.hostname, () => {
  socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
});
socket.on('error', (err) => {
  console.error(`flood consumer: ${err.message}`);
  process.exit(1);
});

let upgraded = false;
let pending: Buffer = Buffer.alloc(0);
/** Payload bytes of the current frame still to skip. */
let skip = 0;
socket.on('data', (chunk: Buffer) => {
  let buf: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
  let at = 0;
  if (!upgraded) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      pending = buf;
      return;
    }
    const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
    if (!/^HTTP\/1\.1 101/.test(status)) {
      console.error(`flood consumer: ${status}`);
      process.exit(1);
    }
    upgraded = true;
    at = end + 4;
    if (subscribe) socket.write(clientFrame(0x1, Buffer.from(subscribe)));
    console.log('open');
  }
  for (;;) {
    if (skip > 0) {
      const n = Math.min(skip, buf.length - at);
      skip -= n;
      at += n;
      if (skip > 0) break;
    }
    if (buf.length - at < 2) break;
    const len7 = buf[at + 1]! & 0x7f;
    const headLen = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
    if (buf.length - at < headLen) break;
    const len = len7 === 126 ? buf.readUInt16BE(at + 2) : len7 === 127 ? Number(buf.readBigUInt64BE(at + 2)) : len7;
    const opcode = buf[at]! & 0x0f;
    if (opcode >= 0x8) {
      // A control frame (close, ping, pong), read whole: a ping is answered as a client
      // must (the Binance simulator, like Binance, drops a client that does not pong).
      if (buf.length - at < headLen + len) break;
      if (opcode === 0x9) socket.write(clientFrame(0xa, buf.subarray(at + headLen, at + headLen + len)));
      at += headLen + len;
      continue;
    }
    if (opcode === 0x1 || opcode === 0x2) frames++;
    at += headLen;
    skip = len;
  }
  pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
  buf = pending;
});

// Closed by the server: say so, and still give the count when asked (the bench asks once, at its end).
socket.on('close', () => {
  console.error(`flood consumer: ${url.pathname}: the server closed the connection after ${frames} frames`);
  setInterval(() => {}, 1 << 30);
});

process.on('SIGTERM', () => {
  console.log(`frames ${frames}`);
  process.exit(0);
});
