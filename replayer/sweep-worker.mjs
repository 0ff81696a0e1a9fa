// Worker threads start without the main thread's TypeScript loader: register tsx, then run.
import { register } from 'tsx/esm/api';

register();
await import('./sweep-worker.ts');
