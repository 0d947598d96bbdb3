import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { annotations, labels, VirtualClusterError } from '../provider.ts';
import {
  chartValues,
  clusterIPServer,
  defaultApiAccess,
  describeEvents,
  describePod,
  helmInstallArgs,
  inClusterServer,
  infoFromNamespace,
  isPodReady,
  kubeconfigWithServer,
  mergeValues,
  renderValues,
} from './kubernetes.ts';

describe('renderValues', () => {
  it('keeps the chart defaults when nothing is asked', () => {
    expect(renderValues({})).toEqual({});
    expect(renderValues({}, { persistence: { enabled: false } })).toEqual({
      persistence: { enabled: false },
    });
  });

  it('maps isolation options and the allowed host suffix to chart values', () => {
    expect(
      renderValues({
        isolation: { quota: false, networkPolicy: false, podSecurityStandard: 'restricted' },
        allowedHostSuffix: 'pr-12.preview.example.com',
      }),
    ).toEqual({
      isolation: {
        resourceQuota: { enabled: false },
        limitRange: { enabled: false },
        networkPolicy: { enabled: false },
        podSecurityStandard: 'restricted',
      },
      syncer: { allowedHostSuffix: 'pr-12.preview.example.com' },
    });
  });

  it('lets per-cluster options win over provider values, keeping the rest of them', () => {
    const base = {
      syncer: { logLevel: 'debug', allowedHostSuffix: 'example.com' },
      isolation: { networkPolicy: { enabled: true, ingressControllerNamespace: 'nginx' } },
      persistence: { enabled: false },
    };
    expect(
      renderValues({ allowedHostSuffix: 'pr-1.example.com', isolation: { networkPolicy: false } }, base),
    ).toEqual({
      syncer: { logLevel: 'debug', allowedHostSuffix: 'pr-1.example.com' },
      isolation: { networkPolicy: { enabled: false, ingressControllerNamespace: 'nginx' } },
      persistence: { enabled: false },
    });
    // The provider's values are not changed in place.
    expect(base.syncer.allowedHostSuffix).toBe('example.com');
  });
});

describe('chartValues', () => {
  it("points the users' kubeconfig Secret at the chart's Service, under the provider and create options", () => {
    expect(chartValues('pr-1', 'vcluster-pr-1', {})).toEqual({
      syncer: { kubeconfigServer: 'https://pr-1.vcluster-pr-1.svc:443' },
    });
    expect(
      chartValues(
        'pr-1',
        'vcluster-pr-1',
        { allowedHostSuffix: 'pr-1.example.com' },
        { syncer: { logLevel: 'debug', kubeconfigServer: 'https://api.pr-1.example.com' } },
      ),
    ).toEqual({
      syncer: {
        kubeconfigServer: 'https://api.pr-1.example.com',
        logLevel: 'debug',
        allowedHostSuffix: 'pr-1.example.com',
      },
    });
  });
});

describe('where the virtual API server is reached', () => {
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: vc
    cluster:
      server: https://vc.vcluster-vc.svc:443
      certificate-authority-data: Q0E=
users:
  - name: admin
    user: { client-certificate-data: Q0VSVA==, client-key-data: S0VZ }
contexts:
  - name: vc
    context: { cluster: vc, user: admin }
current-context: vc
`;

  it('names the Service in the cluster and its ClusterIP elsewhere', () => {
    expect(inClusterServer('vc', 'vcluster-vc')).toBe('https://vc.vcluster-vc.svc:443');
    expect(clusterIPServer('10.96.3.4')).toBe('https://10.96.3.4:443');
    expect(clusterIPServer('fd00::3:4')).toBe('https://[fd00::3:4]:443');
    expect(defaultApiAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe('service');
    expect(defaultApiAccess({})).toBe('cluster-ip');
  });

  it('replaces the server of a kubeconfig and keeps its credentials', () => {
    const config = parse(kubeconfigWithServer(kubeconfig, 'https://10.96.3.4:443'));
    expect(config.clusters[0].cluster).toEqual({
      server: 'https://10.96.3.4:443',
      'certificate-authority-data': 'Q0E=',
    });
    expect(config.users[0].user['client-key-data']).toBe('S0VZ');
    expect(config['current-context']).toBe('vc');
    expect(() => kubeconfigWithServer('kind: Config\n', 'https://x')).toThrow(VirtualClusterError);
  });
});

describe('mergeValues', () => {
  it('merges objects recursively and replaces arrays and scalars', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: { e: 1 } })).toEqual({
      a: { b: 1, c: [3] },
      d: { e: 1 },
    });
  });
});

describe('helmInstallArgs', () => {
  it('installs or upgrades the release with the service CIDR and the values file', () => {
    expect(
      helmInstallArgs({
        name: 'pr-1',
        namespace: 'vcluster-pr-1',
        chart: '/charts/vcluster',
        serviceCIDR: '10.96.0.0/12',
        valuesFile: '/tmp/values.yaml',
      }),
    ).toEqual([
      'upgrade',
      '--install',
      'pr-1',
      '/charts/vcluster',
      '--namespace',
      'vcluster-pr-1',
      '--set',
      'serviceCIDR=10.96.0.0/12',
      '-f',
      '/tmp/values.yaml',
    ]);
  });

  it('escapes the comma of a dual-stack range pair', () => {
    const args = helmInstallArgs({
      name: 'a',
      namespace: 'b',
      chart: 'c',
      serviceCIDR: '10.96.0.0/12,fd00::/108',
      valuesFile: 'v',
    });
    expect(args).toContain('serviceCIDR=10.96.0.0/12\\,fd00::/108');
  });
});

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

describe('pod and event descriptions', () => {
  const pending: V1Pod = {
    metadata: { name: 'pr-1-0' },
    spec: { containers: [] },
    status: {
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'pod has unbound PVCs' },
      ],
    },
  };

  it('says why a pod is not ready', () => {
    expect(isPodReady(pending)).toBe(false);
    const text = describePod(pending);
    expect(text).toContain('pod pr-1-0 is Pending');
    expect(text).toContain('not scheduled');
    expect(text).toContain('PodScheduled=False (Unschedulable: pod has unbound PVCs)');
    const crashing: V1Pod = {
      metadata: { name: 'pr-1-0' },
      spec: { containers: [], nodeName: 'n1' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: [
          {
            name: 'syncer',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
          },
        ],
      },
    };
    expect(describePod(crashing)).toContain('container syncer waiting: CrashLoopBackOff');
    expect(describePod(crashing)).toContain('restarted 3');
  });

  it('counts a pod Ready only with the Ready condition and no deletion', () => {
    const ready: V1Pod = {
      metadata: { name: 'p' },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(isPodReady(ready)).toBe(true);
    expect(isPodReady({ ...ready, metadata: { name: 'p', deletionTimestamp: new Date() } })).toBe(false);
  });

  it('lists the latest events oldest first', () => {
    const event = (reason: string, at: string, type = 'Normal'): CoreV1Event => ({
      metadata: {},
      involvedObject: { kind: 'Pod', name: 'pr-1-0' },
      reason,
      message: `${reason} happened`,
      type,
      lastTimestamp: new Date(at),
    });
    const lines = describeEvents(
      [
        event('B', '2025-01-01T00:00:02Z', 'Warning'),
        event('A', '2025-01-01T00:00:01Z'),
        event('C', '2025-01-01T00:00:03Z'),
      ],
      2,
    );
    expect(lines).toEqual(['Warning B (Pod/pr-1-0): B happened', 'C (Pod/pr-1-0): C happened']);
  });
});
