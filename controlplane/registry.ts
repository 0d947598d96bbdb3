import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Binaries, cacheRoot } from './binaries.ts';
import { ManagedProcess } from './process.ts';

/** Where the local registry keeps its images: machine-wide, so images are built once, like the binaries. */
export const registryStorage = () => join(cacheRoot(), '..', 'registry');

/**
 * The embedded host's image registry (CNCF Distribution): the mirror containerd pulls
 * docker.io, registry.k8s.io and ghcr.io images from, and where a pull request's own image is pushed.
 */
export async function startRegistry(options: {
  binaries: Binaries;
  /** host:port it listens on. */
  address: string;
  dir: string;
}): Promise<ManagedProcess> {
  const storage = registryStorage();
  await mkdir(storage, { recursive: true });
  const config = join(options.dir, 'registry.yaml');
  await writeFile(
    config,
    stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
      http: { addr: options.address },
    }),
  );
  return new ManagedProcess({
    name: 'registry',
    command: options.binaries.path('registry'),
    args: ['serve', config],
    logFile: join(options.dir, 'logs', 'registry.log'),
    // Distribution reads OTel settings from the environment; no exporter is wanted.
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
  });
}
