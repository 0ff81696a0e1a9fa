/**
 * The Node under test can free better-sqlite3's objects. From Node 24.19, an addon built on
 * `node::ObjectWrap` (better-sqlite3 12.x is) registers a cleanup hook per object and removes
 * it in its destructor, which aborts (`Assertion failed: (env) != nullptr`) when V8 frees the
 * object from one of its own GC tasks (nodejs/node#65446). The recorder then dies at start-up
 * or exit now and then; this makes it happen every time: 24.21 aborts here, 20, 22 and 26 do not.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers.ts';

const SCRIPT = `
const Database = require('better-sqlite3');
const db = new Database(':memory:');
let junk = [];
for (let i = 0; i < 300000; i++) {
  db.prepare('SELECT 1');                 // a Statement nobody keeps: garbage at once
  junk.push({ i, s: 'x'.repeat(20) });    // and enough other garbage for V8 to collect often
  if (junk.length > 10000) junk = [];
}
db.close();
console.log('freed');
`;

it(`Node ${process.version} survives the GC freeing 300,000 better-sqlite3 statements`, () => {
  const r = spawnSync(process.execPath, ['-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(r.signal, `${r.stderr.split('\n').slice(0, 12).join('\n')}\n(Node 24.19+ with better-sqlite3 12: see README, Node versions)`).toBe(null);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe('freed');
});
