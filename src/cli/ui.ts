/**
 * The dashboard from the command line: `tapedeck ui --from <archive | output dir | kafka://…>`,
 * and the `--ui` / `--ui-port` / `--ui-host` options that `record` and `replay` share.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { replay } from '../../replayer/replay.ts';
import { intervalName, type EngineConfig } from '../engine/config.ts';
import { indicatorColumns } from '../storage/run.ts';
import { UiHub, type UiInfo } from '../ui/hub.ts';
import { isOutputDir, loadOutputs, outputInfo } from '../ui/load.ts';
import type { UiServer } from '../ui/server.ts';
import { engineConfig, withEngineOptions, type EngineArgs } from './engine-options.ts';
import { UserError, checkPort, listenError, userInput } from './errors.ts';

export const UI_PORT = 8464;

export interface UiArgs { ui: boolean; 'ui-port': number; 'ui-host': string }

export function withUiOptions<T>(y: Argv<T>, always = false) {
  const withPort = y
    .option('ui-port', { type: 'number', default: UI_PORT, describe: 'dashboard port (0: any free port)' })
    .option('ui-host', { type: 'string', default: '127.0.0.1', describe: 'address the dashboard listens on (0.0.0.0: every interface)' });
  return always ? withPort : withPort.option('ui', { type: 'boolean', default: false, describe: 'serve the live dashboard (see tapedeck ui)' });
}

export function engineInfo(source: string, mode: UiInfo['mode'], config: EngineConfig, speed?: string): UiInfo {
  return { source, mode, intervals: config.intervalsMs.map(intervalName), indicators: indicatorColumns(config), ...(speed !== undefined ? { speed } : {}) };
}

export interface Dashboard { readonly hub: UiHub; readonly server: UiServer; close(): Promise<void> }

/** Starts the page's server for `hub`; a port in use or a foreign address is one line, exit 2. */
export async function startDashboard(hub: UiHub, a: Pick<UiArgs, 'ui-port' | 'ui-host'>): Promise<Dashboard> {
  checkPort('--ui-port', a['ui-port']);
  // Loaded when a dashboard starts: `replay` and `record` without --ui need no HTTP/WebSocket server (start-up time).
  const { serveUi } = await import('../ui/server.ts');
  const server = await serveUi(hub, a['ui-host'], a['ui-port'])
    .catch((err: unknown) => listenError(err, a['ui-host'], a['ui-port'], '--ui-port/--ui-host'));
  return {
    hub, server,
    close: async () => {
      hub.close();
      await server.close();
    },
  };
}

/** Resolves on Ctrl-C or SIGTERM. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

interface Args extends EngineArgs, Omit<UiArgs, 'ui'> { from: string }

/** The hub for `--from`: an output directory's tables as written, or an archive (or topic) replayed at max speed. */
async function load(a: Args): Promise<UiHub> {
  if (!a.from.startsWith('kafka://') && isOutputDir(a.from)) {
    const { manifest, info } = outputInfo(a.from);
    const hub = new UiHub(info);
    await loadOutputs(a.from, manifest, hub);
    return hub;
  }
  const config = engineConfig(a);
  const hub = new UiHub(engineInfo(a.from, 'static', config));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-ui-'));
  try {
    await replay({ from: a.from, out, speed: 'max', config, sinks: [hub], taps: [hub.tap], onProgress: (_, total) => hub.expect(total) });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return hub;
}

export const uiCommand: CommandModule<object, Args> = {
  command: 'ui',
  describe: 'serve the dashboard for a recording (replayed at max speed) or a finished run\'s output directory',
  builder: (y) => withUiOptions(withEngineOptions(y
    .option('from', { type: 'string', demandOption: true, describe: 'output directory (with manifest.json), archive directory or .parquet file, or kafka://host:port/topic' })), true) as never,
  handler: async (a) => {
    checkPort('--ui-port', a['ui-port']);
    if (a.from.startsWith('kafka://')) {
      const { parseKafkaUrl } = await import('../storage/kafka.ts');
      userInput(() => parseKafkaUrl(a.from));
    } else if (!fs.existsSync(a.from)) throw new UserError(`no output directory or archive at ${a.from}`);
    const dash = await startDashboard(await load(a), a);
    dash.hub.done();
    // Listening for the stop before saying where the page is: whoever reads that line may stop us at once.
    const stopped = untilStopped();
    process.stderr.write(`dashboard for ${a.from} at ${dash.server.url} (Ctrl-C to stop)\n`);
    await stopped;
    await dash.close();
  },
};
