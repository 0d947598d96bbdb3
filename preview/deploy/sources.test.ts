// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('refuses kustomize for now, and helm without a helm binary', async () => {
    await expect(
      renderApp({ root, config: parseRepoConfig('kustomize: k8s/overlays/preview\n'), values: {} }),
    ).rejects.toThrow(ManifestError);
    await expect(
      renderApp({ root, config: parseRepoConfig('kustomize: k8s/overlays/preview\n'), values: {} }),
    ).rejects.toThrow(/kustomize: is not supported yet/);
    await expect(
      renderApp({ root, config: parseRepoConfig('helm: { chart: chart }\n'), values: {} }),
    ).rejects.toThrow(/no helm binary/);
  });
});
