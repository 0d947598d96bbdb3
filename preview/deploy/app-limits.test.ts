import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { RepoConfigError } from '../repo-config.ts';
import { APP_LIMITS, checkConfigSize, checkObjectCount, fileBudget } from './app-limits.ts';
import { ManifestError } from './render.ts';

describe('app limits', () => {
  it('refuses a config file over its size, naming the cap and what to do', () => {
    expect(checkConfigSize('manifests: deploy/\n')).toBe('manifests: deploy/\n');
    const big = `manifests: deploy/\n#${'x'.repeat(APP_LIMITS.configBytes)}`;
    expect(() => checkConfigSize(big)).toThrow(RepoConfigError);
    expect(() => checkConfigSize(big)).toThrow(
      /vcluster-preview\.yml:1: \(top level\): the file is \d+ bytes, more than the 65536 a config may have \(keep manifests in files of their own/,
    );
  });

  it('counts the files read for one preview: their number and their bytes', () => {
    const count = fileBudget();
    for (let i = 0; i < APP_LIMITS.files; i++) count(`deploy/${i}.yaml`, 10);
    expect(() => count('deploy/one-more.yaml', 10)).toThrow(ManifestError);
    expect(() => count('deploy/one-more.yaml', 10)).toThrow(
      /more than 500 files \(at deploy\/one-more\.yaml\)/,
    );

    const bytes = fileBudget();
    bytes('chart/big.bin', APP_LIMITS.fileBytes);
    expect(() => bytes('chart/values.yaml', 1)).toThrow(
      /more than 10 MiB together \(at chart\/values\.yaml\)/,
    );
  });

  it('refuses more objects than one preview may deploy', () => {
    const objects = (n: number): KubernetesObject[] =>
      Array.from({ length: n }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `c${i}` },
      }));
    expect(checkObjectCount(objects(APP_LIMITS.objects))).toHaveLength(APP_LIMITS.objects);
    expect(() => checkObjectCount(objects(APP_LIMITS.objects + 1))).toThrow(
      /the manifests render 501 objects, more than the 500 one preview may deploy/,
    );
  });
});
