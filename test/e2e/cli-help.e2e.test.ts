/** `--help` is what a newcomer reads first: every option says what it does, and the README has it too. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers.ts';

const COMMANDS = ['import', 'replay', 'record', 'simulate', 'verify', 'backtest', 'demo', 'ui'];
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface HelpOption { name: string; text: string }

/** The options of `tapedeck <command> --help`, each with its whole entry (wrapped lines joined). */
function helpOptions(command: string): HelpOption[] {
  const r = runCli([command, '--help']);
  expect(r.code, r.stderr).toBe(0);
  const out: HelpOption[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^ {2}(--[a-z][a-z0-9-]*)(.*)$/.exec(line);
    if (m) out.push({ name: m[1]!, text: m[2]!.trim() });
    else if (out.length > 0 && /^ {3,}\S/.test(line)) out.at(-1)!.text += ` ${line.trim()}`;
    else if (line.trim() === '' || /^\S/.test(line)) out.push({ name: '', text: '' });
  }
  return out.filter((o) => o.name !== '' && o.name !== '--help' && o.name !== '--version')
    // cliui sets the type right after a description that fills the column (`closes[string]`).
    .map((o) => ({ ...o, text: o.text.replace(/\s*\[/g, ' [').replace(/\s+/g, ' ') }));
}

/** The README's `###` sections whose heading names the command (`tapedeck replay …`, Kafka's `` `replay …` ``). */
function readmeSections(command: string): string {
  return README.split(/^(?=##)/m).filter((s) => new RegExp(`^###.*(?:\`|tapedeck )${command}\\s`).test(s)).join('\n');
}

const mentions = (text: string, option: string): boolean =>
  new RegExp(`--(?:no-)?${option.slice(2)}(?![a-z0-9-])`).test(text);

const help = new Map(COMMANDS.map((c) => [c, helpOptions(c)]));

describe('tapedeck --help', () => {
  it.each(COMMANDS)('%s: every option has a description', (command) => {
    const bare = help.get(command)!.filter((o) => /^\[/.test(o.text)).map((o) => o.name);
    expect(bare, 'options whose help line is only their type').toEqual([]);
  });

  it('import: the positional files are required, with no default to contradict that', () => {
    const r = runCli(['import', '--help']);
    expect(r.stdout).toMatch(/files .*\[required\]/s);
    expect(r.stdout).not.toMatch(/\[required\] \[default: \[\]\]/);
  });

  // An option shared word for word with another command (the engine and strategy options)
  // may be documented once, in that command's section.
  it.each(COMMANDS)('%s: the README documents every option of --help', (command) => {
    const own = readmeSections(command);
    expect(own, `a README section for ${command}`).not.toBe('');
    const missing = help.get(command)!.filter((o) => !mentions(own, o.name) && !COMMANDS.some((other) =>
      other !== command && help.get(other)!.some((p) => p.name === o.name && p.text === o.text) && mentions(readmeSections(other), o.name)));
    expect(missing.map((o) => o.name), `options of ${command} --help the README does not mention`).toEqual([]);
  });
});
