import type { CommandModule } from 'yargs';
import { UserError } from './errors.ts';

export const demoCommand: CommandModule = {
  command: 'demo',
  describe: 'offline demo: a simulated two-exchange session, recorded and replayed',
  handler: () => {
    throw new UserError('demo is not built yet');
  },
};
