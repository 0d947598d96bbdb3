import { describe, expect, it } from 'vitest';
import { annotations, labels } from '../../provider.ts';
import { infoFromNamespace } from './info.ts';

describe('infoFromNamespace', () => {
  it('reads name, state and creation time from the labels and annotations', () => {
    const info = infoFromNamespace({
      metadata: {
        name: 'vcluster-pr-1',
        labels: { [labels.vcluster]: 'pr-1', [labels.provider]: 'kubernetes', [labels.pullRequest]: '1' },
        annotations: { [annotations.state]: 'paused', [annotations.createdAt]: '2025-01-01T00:00:00.000Z' },
      },
    });
    expect(info).toMatchObject({
      name: 'pr-1',
      namespace: 'vcluster-pr-1',
      provider: 'kubernetes',
      state: 'paused',
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    expect(info?.labels[labels.pullRequest]).toBe('1');
  });

  it('ignores namespaces of others and of the local provider; unknown states read as creating', () => {
    expect(infoFromNamespace({ metadata: { name: 'x' } })).toBe(undefined);
    expect(
      infoFromNamespace({
        metadata: { name: 'x', labels: { [labels.vcluster]: 'x', [labels.provider]: 'local' } },
      }),
    ).toBe(undefined);
    expect(
      infoFromNamespace({
        metadata: {
          name: 'x',
          labels: { [labels.vcluster]: 'x', [labels.provider]: 'kubernetes' },
          annotations: { [annotations.state]: 'weird' },
        },
      })?.state,
    ).toBe('creating');
  });
});
