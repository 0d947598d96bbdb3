import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes the preview's kubeconfig where later steps of the job can use it and nobody else on the
 * runner can read it: under RUNNER_TEMP (emptied after each job), mode 0600.
 */
export function writeKubeconfigFile(options: {
  kubeconfig: string;
  pullRequest: number;
  /** RUNNER_TEMP; the system's temporary folder outside a runner. */
  runnerTemp: string | undefined;
}): string {
  const dir = join(options.runnerTemp || tmpdir(), 'vcluster-preview');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `pr-${options.pullRequest}.kubeconfig`);
  writeFileSync(path, options.kubeconfig, { mode: 0o600 });
  // `mode` applies to a new file only: a file left by an earlier step keeps its own.
  chmodSync(path, 0o600);
  return path;
}
