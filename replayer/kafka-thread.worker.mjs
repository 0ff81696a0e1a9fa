// The Kafka reader thread's entry (kafka-thread.ts): a worker starts without the main
// thread's TypeScript loader, so it registers tsx before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./kafka-thread.worker.ts');
