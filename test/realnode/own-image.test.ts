import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { findBinaries, pushImage } from '../../controlplane/index.ts';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';

const run = promisify(execFile);

/**
 * A pull request's own image on the embedded host, the way the README tells: build it anywhere
 * (here crane appends the app's files to the seeded busybox), save it as a tarball, push it to the
 * real node's registry under the name the manifests use; the manifests run it unchanged.
 */
describe("a pull request's own image on the real node", () => {
  it('runs from the local registry under its production name', async () => {
    const binaries = (await findBinaries())!;
    const crane = binaries.path('crane');
    const { registry } = inject('realNode');
    const work = await mkdtemp(join(tmpdir(), 'vcp-own-image-'));
    const commit = randomBytes(20).toString('hex');
    await mkdir(join(work, 'rootfs', 'www'), { recursive: true });
    await writeFile(join(work, 'rootfs', 'www', 'index.html'), `built from ${commit}\n`);
    await run('tar', ['-C', join(work, 'rootfs'), '-cf', join(work, 'layer.tar'), 'www']);
    const tarball = join(work, 'app.tar');
    await run(crane, [
      'append',
      '--insecure',
      '-b',
      `${registry}/docker.io/library/busybox:latest`,
      '-f',
      join(work, 'layer.tar'),
      '-t',
      'ghcr.io/acme/shop:pr-12',
      '-o',
      tarball,
    ]);

    const name = `ghcr.io/acme/shop:${commit.slice(0, 12)}`;
    await pushImage({ binaries, registry, tarball, name });

    const host = kubeClients(inject('realHostKubeconfig'));
    const pod = `shop-${commit.slice(0, 6)}`;
    await host.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: pod },
        spec: {
          containers: [{ name: 'shop', image: name, command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }],
        },
      },
    });
    try {
      const ip = await waitUntil(
        async () => {
          const current = await host.core.readNamespacedPod({ name: pod, namespace: 'default' });
          return current.status?.phase === 'Running' ? current.status.podIP : undefined;
        },
        { what: `pod ${pod} running ${name}`, timeoutMs: 60_000 },
      );
      const page = await waitUntil(
        async () => {
          const res = await fetch(`http://${ip}:8080/`).catch(() => undefined);
          return res?.ok ? res.text() : undefined;
        },
        { what: 'the pushed app to answer', timeoutMs: 20_000 },
      );
      expect(page).toBe(`built from ${commit}\n`);
    } finally {
      await host.core.deleteNamespacedPod({ name: pod, namespace: 'default', gracePeriodSeconds: 0 });
    }
  });

  it('says what is wrong with a missing tarball', async () => {
    const binaries = (await findBinaries())!;
    await expect(
      pushImage({
        binaries,
        registry: inject('realNode').registry,
        tarball: '/nonexistent/app.tar',
        name: 'acme/app:1',
      }),
    ).rejects.toThrow('/nonexistent/app.tar does not exist: give an image tarball');
  });
});
