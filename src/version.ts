import { createRequire } from 'node:module';

/** tapedeck's version, from package.json: recorded in every manifest. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
