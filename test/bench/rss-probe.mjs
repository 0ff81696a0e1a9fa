// Loaded with `node --import` by the bench: on exit, writes the process's own peak RSS
// (KiB) to the file named by TAPEDECK_RSS_OUT, so the bench measures the CLI process itself.
import fs from 'node:fs';

const out = process.env.TAPEDECK_RSS_OUT;
if (out) process.on('exit', () => fs.writeFileSync(out, String(process.resourceUsage().maxRSS)));
