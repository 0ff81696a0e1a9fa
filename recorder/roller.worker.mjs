// The archive roller thread's entry (roller.ts): a worker starts without the main thread's
// TypeScript loader, so it registers tsx before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./roller.worker.ts');
