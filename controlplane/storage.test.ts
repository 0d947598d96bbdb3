import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { imageRecipes } from './images/recipes.ts';
import { storageConfig } from './storage.ts';

describe('the storage provisioner configuration', () => {
  const config = storageConfig('/tmp/node/volumes');

  it('puts every node’s volumes under the given folder', () => {
    expect(JSON.parse(config['config.json']!)).toEqual({
      nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/tmp/node/volumes'] }],
    });
  });

  it('makes folders any user can write and removes them, with busybox by its path', () => {
    expect(config.setup).toContain('/bin/busybox mkdir -m 0777 -p "$VOL_DIR"');
    expect(config.teardown).toContain('/bin/busybox rm -rf "$VOL_DIR"');
  });

  it('runs its helper pods from an image the local registry is seeded with, that has /bin/busybox', () => {
    const pod = parse(config['helperPod.yaml']!) as { spec: { containers: { image: string }[] } };
    const image = pod.spec.containers[0]!.image;
    const recipe = imageRecipes.find((r) => r.refs.includes(image));
    expect(recipe, image).toBeDefined();
    expect(recipe!.files.some((file) => file.path === '/bin/busybox')).toBe(true);
  });
});
