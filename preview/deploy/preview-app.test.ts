// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPreviewApp } from './preview-app.ts';
import { ManifestError } from './render.ts';
import { UndeclaredVariableError } from './resolve-variables.ts';

const identity = {
  pr: { number: 7 },
  sha: 'a'.repeat(40),
  repo: { name: 'shop', owner: 'acme' },
  baseDomain: 'preview.example.com',
};

const POD = `apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  containers:
    - name: web
      image: \${{ variables.image }}
      args: ["\${{ variables.tier }}"]
`;

const imageAndArgs = (objects: unknown[]) =>
  objects.map((object) => {
    const container = (object as { spec: { containers: { image: string; args: string[] }[] } }).spec
      .containers[0];
    return [container?.image, container?.args[0]];
  });

describe('renderPreviewApp with variables', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vcp-preview-app-'));
    await mkdir(join(root, 'k8s'));
    await writeFile(join(root, 'k8s', 'pod.yaml'), POD);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const declared = 'manifests: k8s\nvariables:\n  image: "shop:main"\n  tier: small\n';

  it.each<[string, Record<string, string> | undefined, string[][]]>([
    ['the defaults when the workflow set none', undefined, [['shop:main', 'small']]],
    [
      'what the workflow set, the rest at their defaults',
      { image: 'ghcr.io/acme/shop:abc123' },
      [['ghcr.io/acme/shop:abc123', 'small']],
    ],
    [
      'a value with YAML in it as a plain string',
      { image: 'x', tier: '#not: a comment' },
      [['x', '#not: a comment']],
    ],
  ])('fills in %s', async (_name, variables, expected) => {
    const app = await renderPreviewApp({ configText: declared, root, identity, variables });
    expect(imageAndArgs(app.objects)).toEqual(expected);
  });

  it('refuses a variable the config does not declare before fetching anything', async () => {
    let fetched = false;
    const render = renderPreviewApp({
      configText: declared,
      root,
      identity,
      variables: { image: 'x', imgae: 'y' },
      fetch: async () => {
        fetched = true;
      },
    });
    await expect(render).rejects.toThrow(UndeclaredVariableError);
    await expect(render).rejects.toThrow(
      'the workflow set variable imgae, which .github/vcluster-preview.yml does not declare under variables: (it declares image, tier)',
    );
    expect(fetched).toBe(false);
  });

  it('reports a placeholder of an undeclared variable as unknown, naming the declared ones', async () => {
    const render = renderPreviewApp({
      configText: 'manifests: k8s\nvariables:\n  image: "shop:main"\n',
      root,
      identity,
    });
    await expect(render).rejects.toThrow(ManifestError);
    await expect(render).rejects.toThrow(
      /^k8s\/pod\.yaml:8: unknown placeholder \$\{\{ variables\.tier \}\} \(use one of .*\$\{\{ variables\.image \}\}/,
    );
  });

  it('knows no variables when the config declares none', async () => {
    await expect(renderPreviewApp({ configText: 'manifests: k8s\n', root, identity })).rejects.toThrow(
      /^k8s\/pod\.yaml:7: unknown placeholder \$\{\{ variables\.image \}\}.*\n.*variables\.tier/,
    );
  });
});
