import { ApiException, type V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeClients } from '../../kube/client.ts';
import { deleteHostObject } from './delete-host-object.ts';
import type { HostDeleteRequest } from './resource-syncer.ts';

const context = {
  host: {} as KubeClients,
  translate: { vclusterName: 'vc1', hostNamespace: 'vcluster-vc1' },
};
const hostObject: V1ConfigMap = { metadata: { name: 'app-x-default-x-vc1', uid: 'uid-1' } };

/** A delete call that records what it was asked and answers with `outcome`. */
function deleteCall(outcome: () => Promise<unknown>) {
  const requests: HostDeleteRequest[] = [];
  return {
    requests,
    deleteHost: (_host: KubeClients, request: HostDeleteRequest) => {
      requests.push(request);
      return outcome();
    },
  };
}

describe('deleteHostObject', () => {
  it('deletes by name in the host namespace with a UID precondition', async () => {
    const call = deleteCall(async () => ({}));
    expect(await deleteHostObject(context, hostObject, call.deleteHost)).toBe('delete');
    expect(call.requests).toEqual([
      { name: 'app-x-default-x-vc1', namespace: 'vcluster-vc1', body: { preconditions: { uid: 'uid-1' } } },
    ]);
  });

  it('passes a grace period on in the body, where the API server reads it', async () => {
    const call = deleteCall(async () => ({}));
    await deleteHostObject(context, hostObject, call.deleteHost, { gracePeriodSeconds: 7 });
    expect(call.requests[0]?.body).toEqual({ gracePeriodSeconds: 7, preconditions: { uid: 'uid-1' } });
  });

  it('leaves a terminating object to finish, without a second delete', async () => {
    const call = deleteCall(async () => ({}));
    const terminating = { metadata: { ...hostObject.metadata, deletionTimestamp: new Date() } };
    expect(await deleteHostObject(context, terminating, call.deleteHost)).toBe('none');
    expect(call.requests).toEqual([]);
  });

  it('counts an object already gone as deleted', async () => {
    const call = deleteCall(() => Promise.reject(new ApiException(404, 'Not Found', '{}', {})));
    expect(await deleteHostObject(context, hostObject, call.deleteHost)).toBe('delete');
  });

  it.each([
    ['a failed UID precondition', new ApiException(409, 'Conflict', '{}', {})],
    ['a refusal', new ApiException(403, 'Forbidden', '{}', {})],
  ])('throws %s on', async (_what, error) => {
    const call = deleteCall(() => Promise.reject(error));
    await expect(deleteHostObject(context, hostObject, call.deleteHost)).rejects.toBe(error);
  });
});
