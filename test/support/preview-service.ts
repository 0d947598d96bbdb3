import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { freePort, pidsMentioning } from '../../controlplane/index.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import type { GitHubDouble } from './github-double.ts';
import { kubeconfigFile } from './kubectl.ts';

/** The example app a user's repository would hold: `.github/vcluster-preview.yml` and its manifests. */
export const EXAMPLE_HELLO = join(import.meta.dirname, '..', '..', 'examples', 'hello');

async function filesUnder(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(root, path)));
    else out.push(relative(root, path));
  }
  return out;
}

/** Puts the example's files into the double's repository at `ref` (a commit sha or a branch). */
export async function seedExample(
  github: GitHubDouble,
  owner: string,
  repo: string,
  ref: string,
  example = EXAMPLE_HELLO,
): Promise<void> {
  for (const path of await filesUnder(example)) {
    github.setFile(owner, repo, ref, path, await readFile(join(example, path), 'utf8'));
  }
}

export interface ServiceEnvOptions {
  github: GitHubDouble;
  redisUrl: string;
  webhookSecret: string;
  /** The worker's host cluster (the local provider on it); left out for a service without one. */
  hostKubeconfig?: string;
}

/** The environment `vcluster-preview serve` reads, pointed at the double, Redis and the test host cluster. */
export async function serviceEnv(options: ServiceEnvOptions): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    APP_ID: '1',
    PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    WEBHOOK_SECRET: options.webhookSecret,
    GHE_HOST: options.github.host,
    GHE_PROTOCOL: 'http',
    PORT: String(port),
    HOST: '127.0.0.1',
    // The service's URL, which is also the Action's default audience.
    API_AUDIENCE: `http://127.0.0.1:${port}`,
    REDIS_URL: options.redisUrl,
    BASE_DOMAIN: 'preview.test',
    LOG_LEVEL: 'silent',
    ...(options.hostKubeconfig
      ? { KUBECONFIG: await kubeconfigFile(options.hostKubeconfig), VCLUSTER_PROVIDER: 'local' }
      : {}),
  };
}

/**
 * A state home of its own (`VCLUSTER_PREVIEW_HOME`) for the local provider's virtual clusters.
 * `restore` deletes the previews of `repoLabel` (`owner.repo`, or several) made under it, also after
 * a failed test, kills what is left of their processes and puts the previous home back.
 */
export function isolatedHome(
  hostKubeconfig: string,
  repoLabel: string | readonly string[],
): { home: string; restore(): Promise<void> } {
  const labels: readonly string[] = typeof repoLabel === 'string' ? [repoLabel] : repoLabel;
  const previous = process.env.VCLUSTER_PREVIEW_HOME;
  const home = `/tmp/vcp-e2e-${randomBytes(4).toString('hex')}`;
  process.env.VCLUSTER_PREVIEW_HOME = home;
  return {
    home,
    async restore() {
      const provider = localProvider({ hostKubeconfig, stateRoot: join(home, 'vclusters') });
      for (const cluster of await provider.list()) {
        if (!labels.includes(cluster.labels['vcluster-preview.dev/repo'] ?? '')) continue;
        await provider.delete(cluster).catch(() => {});
      }
      for (const pid of pidsMentioning(home)) process.kill(pid, 'SIGKILL');
      await rm(home, { recursive: true, force: true });
      if (previous === undefined) delete process.env.VCLUSTER_PREVIEW_HOME;
      else process.env.VCLUSTER_PREVIEW_HOME = previous;
    },
  };
}
