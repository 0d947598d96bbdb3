import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);

/** Writes a kubeconfig YAML to a temporary file, for real kubectl and helm. */
export async function kubeconfigFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vcp-kubeconfig-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, yaml, { mode: 0o600 });
  return path;
}

/** Runs one of the project's real binaries (kubectl, helm, …) from the control-plane cache. */
export async function runBinary(
  name: 'kubectl' | 'helm',
  args: string[],
  options: { kubeconfig?: string; cwd?: string } = {},
): Promise<string> {
  const env = { ...process.env, ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}) };
  const { stdout } = await run(join(inject('binDir'), name), args, {
    env,
    cwd: options.cwd,
    maxBuffer: 64 << 20,
  });
  return stdout;
}
