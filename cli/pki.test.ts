import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  adminKubeconfigServer,
  buildPkiSecret,
  canonicalIP,
  certificateNames,
  materialize,
  type PkiData,
  pkiFiles,
  planPki,
  releaseOf,
  requestedNames,
  secretData,
} from './pki.ts';

const hosts =
  'demo,demo.ns,demo.ns.svc,localhost,127.0.0.1,kubernetes,kubernetes.default,kubernetes.default.svc';
const names = requestedNames(hosts, ['10.96.0.10']);
const day = 24 * 60 * 60 * 1000;

async function fresh(): Promise<PkiData> {
  return materialize({ action: 'create' }, undefined, names, 'demo');
}

describe('requestedNames', () => {
  it('splits --hosts, adds the service IPs, tells IPs from names, sorts and drops duplicates', () => {
    expect(requestedNames(' b.example ,a.example,10.0.0.1,,A.example,::0:1', ['10.96.0.10', 'None'])).toEqual(
      {
        dns: ['a.example', 'b.example'],
        ips: ['10.0.0.1', '10.96.0.10', '::1'],
      },
    );
  });

  it('canonicalises IPv6 and rejects what is not an address', () => {
    expect(canonicalIP('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIP('[fd00::10]')).toBe('fd00::10');
    expect(canonicalIP('10.96.0.1')).toBe('10.96.0.1');
    expect(canonicalIP('kubernetes')).toBe(undefined);
    expect(canonicalIP('10.96.0')).toBe(undefined);
  });
});

describe('materialize and planPki', () => {
  it('makes a CA (10 years), a serving certificate for exactly the requested names and an admin certificate', async () => {
    const data = await fresh();
    expect(Object.keys(data).sort()).toEqual([...pkiFiles].sort());
    const ca = new X509Certificate(data['ca.crt']);
    const serving = new X509Certificate(data['apiserver.crt']);
    const admin = new X509Certificate(data['admin.crt']);
    expect(ca.ca).toBe(true);
    expect(new Date(ca.validTo).getTime() - Date.now()).toBeGreaterThan(3600 * day);
    expect(new Date(serving.validTo).getTime() - Date.now()).toBeLessThan(366 * day);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(admin.verify(ca.publicKey)).toBe(true);
    expect(admin.subject).toContain('CN=kubernetes-admin');
    expect(admin.subject).toContain('O=system:masters');
    expect(certificateNames(data['apiserver.crt'])).toEqual(names);
    expect(data['sa.key']).toContain('BEGIN PRIVATE KEY');
    expect(data['sa.pub']).toContain('BEGIN PUBLIC KEY');

    const kubeconfig = parse(data['admin.kubeconfig']);
    expect(kubeconfig.clusters[0].cluster.server).toBe(adminKubeconfigServer);
    expect(Buffer.from(kubeconfig.users[0].user['client-certificate-data'], 'base64').toString()).toBe(
      data['admin.crt'],
    );
    expect(kubeconfig['current-context']).toBe('demo');
  });

  it('creates when nothing is stored and reuses what fits', async () => {
    expect(await planPki(undefined, names)).toEqual({ action: 'create' });
    const data = await fresh();
    expect(await planPki(data, names)).toEqual({ action: 'reuse' });
    // Same names in another order and spelling.
    expect(await planPki(data, requestedNames(`127.0.0.1,${hosts.toUpperCase()}`, ['10.96.0.10']))).toEqual({
      action: 'reuse',
    });
  });

  it('reissues the serving and admin certificates with the same CA when the names change', async () => {
    const data = await fresh();
    const more = requestedNames(`${hosts},api.pr-1.example.com`, ['10.96.0.10']);
    const plan = await planPki(data, more);
    expect(plan.action).toBe('reissue');
    expect(plan.action === 'reissue' && plan.reasons.join()).toContain('api.pr-1.example.com');

    const renewed = await materialize(plan, data, more, 'demo');
    expect(renewed['ca.crt']).toBe(data['ca.crt']);
    expect(renewed['ca.key']).toBe(data['ca.key']);
    expect(renewed['sa.key']).toBe(data['sa.key']);
    expect(renewed['sa.pub']).toBe(data['sa.pub']);
    expect(renewed['apiserver.crt']).not.toBe(data['apiserver.crt']);
    expect(renewed['admin.crt']).not.toBe(data['admin.crt']);
    expect(certificateNames(renewed['apiserver.crt']).dns).toContain('api.pr-1.example.com');
    const ca = new X509Certificate(data['ca.crt']);
    expect(new X509Certificate(renewed['apiserver.crt']).verify(ca.publicKey)).toBe(true);
    expect(await planPki(renewed, more)).toEqual({ action: 'reuse' });

    // A changed Service IP counts as a changed name.
    expect((await planPki(data, requestedNames(hosts, ['10.96.0.11']))).action).toBe('reissue');
  });

  it('reissues certificates that expire within 30 days', async () => {
    const data = await fresh();
    expect((await planPki(data, names, new Date(Date.now() + 300 * day))).action).toBe('reuse');
    const plan = await planPki(data, names, new Date(Date.now() + 340 * day));
    expect(plan).toMatchObject({ action: 'reissue' });
    expect(plan.action === 'reissue' && plan.reasons.join()).toMatch(/serving certificate expires/);
    // The CA (10 years) is kept.
    const later = new Date(Date.now() + 340 * day);
    const renewed = await materialize(plan, data, names, 'demo', later);
    expect(renewed['ca.crt']).toBe(data['ca.crt']);
    expect(await planPki(renewed, names, later)).toEqual({ action: 'reuse' });
  });

  it('reissues leaves missing or signed by another CA, regenerates without a CA or service-account keys', async () => {
    const data = await fresh();
    const other = await fresh();
    const { 'admin.kubeconfig': _, ...withoutKubeconfig } = data;
    expect(await planPki(withoutKubeconfig, names)).toMatchObject({ action: 'reissue' });
    const { 'admin.key': __, ...withoutAdminKey } = data;
    expect(await planPki(withoutAdminKey, names)).toMatchObject({ action: 'reissue' });
    const foreign = await planPki({ ...data, 'apiserver.crt': other['apiserver.crt'] }, names);
    expect(foreign.action === 'reissue' && foreign.reasons.join()).toContain('not signed by the stored CA');

    const { 'ca.key': ___, ...withoutCaKey } = data;
    expect(await planPki(withoutCaKey, names)).toMatchObject({ action: 'regenerate' });
    const { 'sa.pub': ____, ...withoutSa } = data;
    expect(await planPki(withoutSa, names)).toMatchObject({ action: 'regenerate' });
    expect(await planPki({ ...data, 'ca.crt': 'garbage' }, names)).toMatchObject({ action: 'regenerate' });
    expect(await planPki({}, names)).toMatchObject({ action: 'regenerate' });
  });
});

describe('the Secret', () => {
  it('is Opaque, labelled app and release (not managed-by), and round-trips through secretData', async () => {
    const data = await fresh();
    const secret = buildPkiSecret({ name: 'vc-demo-pki', namespace: 'ns', release: 'demo', data });
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata?.labels).toEqual({ app: 'vcluster', release: 'demo' });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual([...pkiFiles].sort());
    expect(secret.metadata?.resourceVersion).toBe(undefined);
    expect(secretData(secret)).toEqual(data);
    expect(secretData(undefined)).toBe(undefined);
    expect(
      buildPkiSecret({ name: 'x', namespace: 'ns', data, resourceVersion: '42' }).metadata?.resourceVersion,
    ).toBe('42');
    expect(buildPkiSecret({ name: 'x', namespace: 'ns', data }).metadata?.labels).toEqual({
      app: 'vcluster',
    });
  });

  it('names the release from the Secret name, else from the Service', () => {
    expect(releaseOf('vc-pr-12-pki', 'other')).toBe('pr-12');
    expect(releaseOf('certs', 'pr-12')).toBe('pr-12');
    expect(releaseOf('certs')).toBe(undefined);
  });
});
