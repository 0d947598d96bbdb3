import { describe, expect, it } from 'vitest';
import { isRemoteTarget, kustomizationRefs } from './kustomize-refs.ts';

describe('isRemoteTarget', () => {
  it.each([
    ['../base', false],
    ['deployment.yaml', false],
    ['components/db', false],
    ['github.example/not-a-host.yaml', false],
    ['https://github.com/org/repo//deploy?ref=v1', true],
    ['https://example.com/all.yaml', true],
    ['github.com/org/repo/deploy', true],
    ['gitlab.com/org/repo//k8s', true],
    ['git@github.com:org/repo.git//base', true],
    ['git::https://example.com/repo.git', true],
    ['ssh://git@example.com/repo.git', true],
    ['example.com/repo//base?ref=main', true],
  ])('%s → %s', (target, remote) => {
    expect(isRemoteTarget(target)).toBe(remote);
  });
});

describe('kustomizationRefs', () => {
  it.each<[string, string, ReturnType<typeof kustomizationRefs>]>([
    [
      'resources, bases and components, in that order',
      'components: [../db]\nbases: [../old]\nresources:\n  - app.yaml\n  - https://example.com/x.yaml\n',
      [
        { field: 'resources', target: 'app.yaml', remote: false },
        { field: 'resources', target: 'https://example.com/x.yaml', remote: true },
        { field: 'bases', target: '../old', remote: false },
        { field: 'components', target: '../db', remote: false },
      ],
    ],
    ['an empty file', '', []],
    ['other fields only', 'namePrefix: pr-\npatches: [{ path: p.yaml }]\n', []],
    ['not a mapping', '- a\n', { problem: 'expected a mapping' }],
    [
      'a field that is not a list of paths',
      'resources: app.yaml\n',
      { problem: 'resources: expected a list of paths' },
    ],
    [
      'not YAML',
      'resources: [a\n',
      { problem: expect.stringMatching(/^not valid YAML: /) as unknown as string },
    ],
  ])('%s', (_, text, expected) => {
    expect(kustomizationRefs(text)).toEqual(expected);
  });
});
