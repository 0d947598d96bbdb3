import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsPath = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resident memory of the given processes, in MiB, from /proc. */
export function rssMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(match?.[1] ?? 0);
    } catch {
      // Gone already.
    }
  }
  return kib / 1024;
}

/** Prints a benchmark's section and replaces (or appends) it in bench/RESULTS.md. */
export function writeSection(name: string, body: string): void {
  const section = `## ${name}\n\n_${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}_\n\n${body.trim()}\n`;
  console.log(`\n${section}`);
  let current = '';
  try {
    current = readFileSync(resultsPath, 'utf8');
  } catch {
    current =
      '# Benchmark results\n\nWritten by `npm run bench` (each benchmark replaces its own section). These machines are noisy: compare ratios within one run.\n';
  }
  const pattern = new RegExp(`## ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = pattern.test(current)
    ? current.replace(pattern, section)
    : `${current.trimEnd()}\n\n${section}`;
  writeFileSync(resultsPath, `${next.trimEnd()}\n`);
}
