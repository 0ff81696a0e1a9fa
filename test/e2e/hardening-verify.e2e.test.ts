/**
 * `verify` never runs code named by a recording (issue 10 item 9): a manifest may name only
 * a built-in strategy; any other module must come from the user's own --strategy, and verify
 * says which strategy it ran and where it came from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, runCli, tmpDir } from '../helpers.ts';

const recording = path.join(ROOT, 'data/sessions/sim-7-3m');
const dir = tmpDir();
const live = path.join(dir, 'bt');
const marker = path.join(dir, 'pwned');

function withStrategyName(name: string): string {
  const copy = path.join(dir, `live-${Math.random().toString(36).slice(2, 8)}`);
  fs.cpSync(live, copy, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8')) as { strategy: { name: string } };
  m.strategy.name = name;
  fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
  return copy;
}

beforeAll(() => {
  const r = runCli(['backtest', '--strategy', 'ma-cross', '--from', recording, '--out', live]);
  expect(r.code, r.stderr).toBe(0);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  // A module that does harm the moment it is imported, as a shared recording could name.
  fs.writeFileSync(path.join(dir, 'evil.ts'), `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`);
  // A user's own strategy: ma-cross under another name.
  fs.writeFileSync(path.join(dir, 'mine.ts'), `import { maCross } from ${JSON.stringify(path.join(ROOT, 'strategies/ma-cross.ts'))};\nexport default { ...maCross, name: 'my-cross' };\n`);
});

describe('verify and the strategy a manifest names', () => {
  beforeEach(() => fs.rmSync(marker, { force: true }));

  it.each([
    ['an absolute path', () => path.join(dir, 'evil.ts')],
    ['a relative path', () => path.relative(ROOT, path.join(dir, 'evil.ts'))],
  ])('refuses to load %s named in manifest.json, in one line', (_what, name) => {
    const copy = withStrategyName(name());
    const r = runCli(['verify', '--recording', recording, '--live', copy]);
    expect(fs.existsSync(marker), 'the module named by the manifest never ran').toBe(false);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tapedeck: .*not a built-in strategy.*--strategy/);
  });

  it('says which built-in strategy it ran', () => {
    const r = runCli(['verify', '--recording', recording, '--live', live]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/strategy: ma-cross \(built in\)/);
    expect(r.stdout).toMatch(/identical/);
  });

  it('runs a module only when the user names it with --strategy, and says so', () => {
    const copy = withStrategyName('my-cross');
    const r = runCli(['verify', '--recording', recording, '--live', copy, '--strategy', path.join(dir, 'mine.ts')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/strategy: my-cross from --strategy .*mine\.ts/);
    expect(r.stdout).toMatch(/identical/);
  });

  it('refuses a --strategy module whose name is not the one the live run used', () => {
    const r = runCli(['verify', '--recording', recording, '--live', live, '--strategy', path.join(dir, 'mine.ts')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^tapedeck: .*my-cross.*ma-cross/);
  });
});

describe('verify of a manifest whose strategy settings were edited by hand', () => {
  const edited = (change: (strategy: Record<string, unknown>) => void): string => {
    const copy = path.join(dir, `edited-${Math.random().toString(36).slice(2, 8)}`);
    fs.cpSync(live, copy, { recursive: true });
    const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8')) as { strategy: Record<string, unknown> };
    change(m.strategy);
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
    return copy;
  };

  // -10000 sampled equity without end (GBs of memory), 0 was "Division by zero", null "reading 'initialCash'".
  it.each([
    ['a negative equity interval', (x: Record<string, unknown>) => { x.equity_interval_ms = -10_000; }, /its equity interval -10000 is not a whole number of ms above 0$/],
    ['an equity interval of 0', (x: Record<string, unknown>) => { x.equity_interval_ms = 0; }, /its equity interval 0 is not a whole number of ms above 0$/],
    ['no execution settings', (x: Record<string, unknown>) => { x.execution = null; }, /its execution settings null are not an object$/],
  ])('refuses %s in one line, exit 2, before the run', (_what, change, message) => {
    const r = runCli(['verify', '--recording', recording, '--live', edited(change)]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(/^tapedeck: cannot run strategy ma-cross: /);
    expect(r.stderr.trim()).toMatch(message);
  });

  // They were replayed as given: fast 0 traded an average of no candles, and "abc" ran too.
  it.each([
    ['a parameter out of its range', (x: Record<string, unknown>) => { (x.params as Record<string, unknown>).fast = 0; }, /bad ma-cross parameter fast=0 \(a whole number of candles, 1 or more\)$/],
    ['a parameter of another type', (x: Record<string, unknown>) => { (x.params as Record<string, unknown>).fast = 'abc'; }, /bad ma-cross parameter fast=abc \(a whole number of candles, 1 or more\)$/],
    ['a parameter the strategy has not', (x: Record<string, unknown>) => { (x.params as Record<string, unknown>).speed = 3; }, /bad ma-cross parameter speed=3 \(ma-cross has no parameter "speed"; it has: .*\)$/],
    ['parameters that break a rule', (x: Record<string, unknown>) => { Object.assign(x.params as Record<string, unknown>, { fast: 50, slow: 20 }); }, /bad ma-cross parameters fast=50 slow=20 \(.*\)$/],
    ['no parameters', (x: Record<string, unknown>) => { x.params = null; }, /\(the recorded parameters null are not an object\)$/],
  ])('refuses %s in one line naming the manifest, exit 2, before the run', (_what, change, message) => {
    const copy = edited(change);
    const r = runCli(['verify', '--recording', recording, '--live', copy]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^tapedeck: \\S+/manifest\\.json records parameters no run could take: `));
    expect(r.stderr.trim()).toMatch(message);
  });
});
