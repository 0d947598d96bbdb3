import { describe, expect, it } from 'vitest';
import { hostQuotaMessage } from './host-quota.ts';

describe('hostQuotaMessage', () => {
  it.each([
    {
      apiMessage:
        'pods "web-x-default-pr-1" is forbidden: exceeded quota: vc-pr-1, requested: count/pods=1, used: count/pods=20, limited: count/pods=20',
      kind: 'Pod',
      want: "the preview's host quota is used up (count/pods 20 of 20): this Pod is not created on the host until the preview deletes some of its objects; the operator sets the quota",
    },
    {
      // Several resources requested, one of them full: name the full one.
      apiMessage:
        'pods "a" is forbidden: exceeded quota: vc-pr-1, requested: limits.memory=1Gi,requests.memory=128Mi, used: limits.memory=40Gi,requests.memory=3Gi, limited: limits.memory=40Gi',
      kind: 'Pod',
      want: "the preview's host quota is used up (limits.memory 40Gi of 40Gi): this Pod is not created on the host until the preview deletes some of its objects; the operator sets the quota",
    },
    {
      apiMessage:
        'services "s" is forbidden: exceeded quota: vc-pr-1, requested: count/services=1, used: count/services=20, limited: count/services=20',
      kind: 'Service',
      want: "the preview's host quota is used up (count/services 20 of 20): this Service is not created on the host until the preview deletes some of its objects; the operator sets the quota",
    },
    {
      apiMessage: 'pods "a" is forbidden: unable to validate against any pod security policy',
      kind: 'Pod',
      want: undefined,
    },
    { apiMessage: 'connection refused', kind: 'Pod', want: undefined },
  ])('$apiMessage', ({ apiMessage, kind, want }) => {
    expect(hostQuotaMessage(apiMessage, kind)).toBe(want);
  });
});
