// The archive reader thread's entry (read-thread.ts): a worker starts without the main
// thread's TypeScript loader, so it registers tsx before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./read-thread.worker.ts');
