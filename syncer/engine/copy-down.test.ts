import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeClients } from '../../kube/client.ts';
import { configMapNeedsRecreate, configMapToHost, configMapUpdateToHost } from '../translate/configmap.ts';
import { copyDown } from './copy-down.ts';
import type { SyncContext } from './resource-syncer.ts';

const translate = { vclusterName: 'vc1', hostNamespace: 'vcluster-vc1' };
const context = { host: {} as KubeClients, translate } as SyncContext;

/** ConfigMap's copy, with host calls that write down what they were asked, in order. */
function configMapCopy() {
  const calls: [string, unknown][] = [];
  const record = (what: string) => async (_host: KubeClients, request: unknown) => {
    calls.push([what, request]);
  };
  const sync = copyDown<V1ConfigMap, unknown>({
    toHost: configMapToHost,
    updateToHost: configMapUpdateToHost,
    needsRecreate: configMapNeedsRecreate,
    createHost: record('create'),
    patchHost: record('patch'),
    deleteHost: record('delete'),
  });
  return { calls, sync };
}

const virtual: V1ConfigMap = {
  metadata: { name: 'app', namespace: 'default', uid: 'v-1' },
  data: { a: '1' },
};
/** The host copy as the API server holds it: with a uid of its own. */
const hostCopy = (): V1ConfigMap => {
  const copy = configMapToHost(virtual, translate);
  return { ...copy, metadata: { ...copy.metadata, uid: 'h-1' } };
};

describe('copyDown', () => {
  it('creates the translated copy in the host namespace', async () => {
    const { calls, sync } = configMapCopy();
    expect(await sync.syncToHost(context, virtual)).toBe('create');
    expect(calls).toEqual([
      ['create', { namespace: 'vcluster-vc1', body: configMapToHost(virtual, translate) }],
    ]);
  });

  it('leaves a copy that is in line alone', async () => {
    const { calls, sync } = configMapCopy();
    expect(await sync.sync(context, virtual, hostCopy())).toBe('none');
    expect(calls).toEqual([]);
  });

  it('merge-patches changed data into the host copy', async () => {
    const { calls, sync } = configMapCopy();
    const changed = { ...virtual, data: { a: '2' } };
    expect(await sync.sync(context, changed, hostCopy())).toBe('update');
    expect(calls).toEqual([
      ['patch', { name: 'app-x-default-x-vc1', namespace: 'vcluster-vc1', body: { data: { a: '2' } } }],
    ]);
  });

  it('replaces an immutable host copy that cannot take the new data: delete by uid, then create', async () => {
    const { calls, sync } = configMapCopy();
    const immutableHost = { ...hostCopy(), immutable: true };
    const changed = { ...virtual, immutable: true, data: { a: '2' } };
    expect(await sync.sync(context, changed, immutableHost)).toBe('create');
    expect(calls.map(([what]) => what)).toEqual(['delete', 'create']);
    expect(calls[0]?.[1]).toMatchObject({
      name: 'app-x-default-x-vc1',
      body: { preconditions: { uid: 'h-1' } },
    });
    expect(calls[1]?.[1]).toEqual({ namespace: 'vcluster-vc1', body: configMapToHost(changed, translate) });
  });
});
