// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../repo-config.ts';
import { ManifestError } from './render.ts';
import { readManifestFiles, renderApp } from './sources.ts';

describe('manifest sources in a checkout', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vcp-sources-'));
    await mkdir(join(root, 'k8s', 'nested'), { recursive: true });
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, 'k8s', 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\n');
    await writeFile(join(root, 'k8s', 'a.YML'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n');
    await writeFile(join(root, 'k8s', 'README.md'), '# not a manifest');
    await writeFile(
      join(root, 'k8s', 'nested', 'c.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n',
    );
    await writeFile(
      join(root, 'single.json'),
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"}}',
    );
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads the manifests of folders (not their subfolders) and files, by name, with repository paths', async () => {
    const files = await readManifestFiles(root, ['k8s', 'single.json']);
    expect(files.map((file) => file.path)).toEqual(['k8s/a.YML', 'k8s/b.yaml', 'single.json']);
  });

  it('says which configured paths are missing, empty or outside the repository', async () => {
    await expect(readManifestFiles(root, ['nope', 'empty'])).rejects.toThrow(
      /vcluster-preview\.yml: manifests: nope does not exist.*\n.*manifests: empty has no \.yaml/,
    );
    await expect(readManifestFiles(root, ['../etc'])).rejects.toThrow(/outside the repository/);
  });

  it('renders what the config lists', async () => {
    const config = parseRepoConfig('manifests: [k8s/, k8s/nested]\nenv: { PR: "${{ pr.number }}" }\n');
    const objects = await renderApp({ root, config, values: { pr: { number: 3 }, sha: 'abc' } });
    expect(objects.map((object) => object.metadata?.name)).toEqual(['a', 'b', 'c']);
  });

  it('renders the seed.job file as a post-install hook, and says when it is missing', async () => {
    await writeFile(
      join(root, 'seed.yaml'),
      'apiVersion: batch/v1\nkind: Job\nmetadata: { name: seed }\nspec: { template: { spec: { containers: [] } } }\n',
    );
    const config = parseRepoConfig('manifests: k8s/\nseed: { job: seed.yaml }\n');
    const objects = await renderApp({ root, config, values: {} });
    expect(
      objects.map((object) => [object.metadata?.name, object.metadata?.annotations?.['helm.sh/hook']]),
    ).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['seed', 'post-install'],
    ]);
    await expect(
      renderApp({ root, config: parseRepoConfig('manifests: k8s/\nseed: { job: nope.yaml }\n'), values: {} }),
    ).rejects.toThrow('.github/vcluster-preview.yml: seed.job: nope.yaml does not exist in the repository');
  });

  it('refuses helm without a helm binary', async () => {
    await expect(
      renderApp({ root, config: parseRepoConfig('helm: { chart: chart }\n'), values: {} }),
    ).rejects.toThrow(/no helm binary/);
  });
});

describe('kustomize: in a checkout', () => {
  let root: string;
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  const render = (dir: string) =>
    renderApp({
      root,
      config: parseRepoConfig(`kustomize: ${dir}\n`),
      values: { pr: { number: 7 }, sha: 'abc' },
    });
  const problems = async (dir: string) => {
    const error = await render(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).message.split('\n');
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vcp-kustomize-'));
    await write(
      'k8s/base/kustomization.yaml',
      'resources: [app.yaml]\nconfigMapGenerator: [{ name: settings, literals: [mode=base] }]\n',
    );
    await write(
      'k8s/base/app.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: app }\ndata: { pr: "${{ pr.number }}" }\n',
    );
    await write('k8s/overlays/preview/kustomization.yaml', 'namePrefix: pr-\nresources: [../../base]\n');
    await write(
      'k8s/remote/kustomization.yaml',
      'resources:\n  - ../base\n  - https://github.com/org/repo//deploy?ref=v1\n  - git@github.com:org/repo.git\n',
    );
    await write('k8s/outside/kustomization.yaml', 'resources: [../../../etc]\n');
    await write('k8s/missing/kustomization.yaml', 'resources: [nope.yaml, ../nobase]\n');
    await write('k8s/broken/kustomization.yaml', 'resources: [app.yaml]\n');
    await write('k8s/broken/app.yaml', 'apiVersion: v1\nkind: [\n');
    await mkdir(join(root, 'k8s', 'empty'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('builds an overlay and its base with kubectl kustomize, placeholders filled in', async () => {
    const objects = await render('k8s/overlays/preview');
    expect(objects.map((object) => `${object.kind} ${object.metadata?.name}`)).toEqual([
      'ConfigMap pr-app',
      expect.stringMatching(/^ConfigMap pr-settings-[a-z0-9]{10}$/),
    ]);
    expect((objects[0] as { data?: Record<string, string> }).data?.pr).toBe('7');
    expect(objects[0]?.metadata?.annotations?.['vcluster-preview.dev/source']).toBe(
      'kustomize:k8s/overlays/preview',
    );
  });

  it('refuses remote bases and paths out of the repository, each with its kustomization file', async () => {
    expect(await problems('k8s/remote')).toEqual([
      "k8s/remote/kustomization.yaml: resources: https://github.com/org/repo//deploy?ref=v1 is a remote base: a preview is built from the pull request's checkout only; copy it into the repository and list its path",
      "k8s/remote/kustomization.yaml: resources: git@github.com:org/repo.git is a remote base: a preview is built from the pull request's checkout only; copy it into the repository and list its path",
    ]);
    expect(await problems('k8s/outside')).toEqual([
      'k8s/outside/kustomization.yaml: resources: ../../../etc is outside the repository',
    ]);
  });

  it('names what is missing: a resource, a base, the kustomization itself', async () => {
    expect(await problems('k8s/missing')).toEqual([
      'k8s/missing/kustomization.yaml: resources: nope.yaml does not exist in the repository',
      'k8s/missing/kustomization.yaml: resources: ../nobase does not exist in the repository',
    ]);
    expect(await problems('k8s/empty')).toEqual([
      '.github/vcluster-preview.yml: kustomize: k8s/empty: k8s/empty has no kustomization.yaml, kustomization.yml, Kustomization',
    ]);
    expect(await problems('k8s/gone')).toEqual([
      '.github/vcluster-preview.yml: kustomize: k8s/gone: k8s/gone has no kustomization.yaml, kustomization.yml, Kustomization (the folder does not exist in the repository)',
    ]);
  });

  it("reports what kubectl kustomize says about a file it cannot read, without the checkout's path", async () => {
    const [line, ...rest] = await problems('k8s/broken');
    expect(line).toMatch(/^kustomize:k8s\/broken: kubectl kustomize failed: /);
    expect([line, ...rest].join('\n')).not.toContain(root);
  });
});
