// The archive writer thread's entry (write-thread.ts) when no bundle can be had: a worker
// starts without the main thread's TypeScript loader, so it registers tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./write-thread.worker.ts');
