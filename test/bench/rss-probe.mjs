// Loaded with `node --import` by the bench: on exit, writes the process's own peak RSS
// (KiB) to the file named by TAPEDECK_RSS_OUT, and its CPU time (user + system, all its
// threads, ms) to TAPEDECK_CPU_OUT, so the bench measures the CLI process itself.
import fs from 'node:fs';

const rss = process.env.TAPEDECK_RSS_OUT;
const cpu = process.env.TAPEDECK_CPU_OUT;
process.on('exit', () => {
  const u = process.resourceUsage();
  if (rss) fs.writeFileSync(rss, String(u.maxRSS));
  if (cpu) fs.writeFileSync(cpu, String((u.userCPUTime + u.systemCPUTime) / 1000));
});
