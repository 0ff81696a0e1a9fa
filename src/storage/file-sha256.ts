/** The SHA-256 of a file's bytes, read a MiB at a time (a file can be larger than a reader should hold). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const block = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, block, 0, block.length, null)) > 0;) hash.update(block.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
