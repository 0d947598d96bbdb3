import { execFile } from 'node:child_process';

/**
 * Runs a program that renders a pull request's files (`helm template`, `kubectl kustomize`) and
 * answers what it printed. Its environment is the caller's minimal one (preview/child-env.ts): the
 * files are untrusted, so none of the service's environment reaches it. A failure is what the
 * program said on stderr, handed to `failed` to become the user's error.
 */
export function runRenderer(
  binary: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; failed: (said: string) => Error },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      binary,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 64 << 20, env: options.env },
      (error, stdout, stderr) => {
        if (!error) return resolvePromise(stdout);
        const said = error.killed
          ? `it did not finish within ${Math.round(options.timeoutMs / 1000)}s`
          : (stderr || error.message).trim();
        reject(options.failed(said));
      },
    );
  });
}
