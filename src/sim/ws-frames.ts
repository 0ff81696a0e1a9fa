/**
 * Server-to-client WebSocket text frames (RFC 6455 §5.2: FIN, opcode 1, unmasked), many in
 * one buffer: the simulator's flood hands a connection a whole round as one write.
 *
 * Sending frame by frame through `ws` made two buffers a frame (header, payload), and a
 * round of thousands went to the socket as one `writev` that libuv cuts at 1,024 buffers,
 * writing the rest only when the event loop next polls: a connection got ~512 frames a loop
 * turn (~50k frames/s) however fast its reader was.
 */

/** The frames of `texts`, in order, as the bytes a server writes. */
export function textFrames(texts: readonly string[]): Buffer {
  const lengths = new Array<number>(texts.length);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    const n = Buffer.byteLength(texts[i]!, 'utf8');
    lengths[i] = n;
    total += headerLength(n) + n;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    const n = lengths[i]!;
    out[at++] = 0x81;
    if (n < 126) out[at++] = n;
    else if (n < 0x10000) {
      out[at++] = 126;
      out.writeUInt16BE(n, at);
      at += 2;
    } else {
      out[at++] = 127;
      out.writeBigUInt64BE(BigInt(n), at);
      at += 8;
    }
    at += out.write(texts[i]!, at, 'utf8');
  }
  return out;
}

function headerLength(payloadBytes: number): number {
  return payloadBytes < 126 ? 2 : payloadBytes < 0x10000 ? 4 : 10;
}
