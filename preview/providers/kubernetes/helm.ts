import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from '../../child-env.ts';
import { VirtualClusterError } from '../../provider.ts';

export class HelmError extends Error {
  override name = 'HelmError';
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.slice(0, 3).join(' ')} failed: ${stderr.trim()}`);
  }
}

/** Runs helm with `args`; an argument `@file:<name>` names one of `files`, written beside the kubeconfig. */
export type Helm = (args: string[], files?: Record<string, string>) => Promise<string>;

const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });

/** Helm against the host: each run gets the host kubeconfig (and its files) in a private temporary folder. */
export function helmRunner(helmBinary: string, hostKubeconfig: string): Helm {
  return async (args, files = {}) => {
    const dir = await mkdtemp(join(tmpdir(), 'vcp-helm-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, hostKubeconfig, { mode: 0o600 });
      const resolved = args.map((arg) => (arg.startsWith('@file:') ? join(dir, arg.slice(6)) : arg));
      for (const [file, content] of Object.entries(files)) {
        await writeFile(join(dir, file), content, { mode: 0o600 });
      }
      const env = childEnv(dir, { KUBECONFIG: kubeconfig });
      const { stdout } = await run(helmBinary, [...resolved, '--kubeconfig', kubeconfig], env).catch(
        (error: { stderr?: string; message: string; code?: unknown }) => {
          if (error.code === 'ENOENT') {
            throw new VirtualClusterError(
              `helm was not found at ${helmBinary}: install helm or build the project's binaries with "vcluster-preview host build"`,
            );
          }
          throw new HelmError(args, error.stderr || error.message);
        },
      );
      return stdout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
