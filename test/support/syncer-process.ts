import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../controlplane/index.ts';
import { waitUntil } from '../../kube/wait.ts';

const cli = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');

export interface SyncerProcessOptions {
  name: string;
  hostNamespace: string;
  hostKubeconfigPath: string;
  virtualKubeconfigPath: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface SyncerProcess {
  child: ChildProcess;
  /** Port of /healthz, /readyz and /metrics. */
  port: number;
  /** What the process wrote to stderr so far. */
  stderr(): string;
}

/** Runs the real `vcluster-preview syncer` as a child process and waits until /readyz answers 200. */
export async function startSyncerProcess(options: SyncerProcessOptions): Promise<SyncerProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      cli,
      'syncer',
      `--name=${options.name}`,
      `--host-namespace=${options.hostNamespace}`,
      `--kubeconfig=${options.hostKubeconfigPath}`,
      `--virtual-kubeconfig=${options.virtualKubeconfigPath}`,
      `--health-port=${port}`,
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', ...options.env } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`the syncer exited ${child.exitCode}: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    },
    { what: 'the syncer process to be ready', timeoutMs: options.readyTimeoutMs ?? 60_000 },
  );
  return { child, port, stderr: () => stderr };
}
