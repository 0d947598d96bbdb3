import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeconfigSecretError, kubeconfigSecret } from './kubeconfig-secret.ts';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nadmin\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const decode = (data: string | undefined) => Buffer.from(data ?? '', 'base64').toString('utf8');

const kubeconfig = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'vc',
        cluster: { server: 'https://127.0.0.1:8443', 'certificate-authority-data': b64(CA), ...cluster },
      },
    ],
    users: [{ name: 'vc', user }],
    contexts: [{ name: 'vc', context: { cluster: 'vc', user: 'vc' } }],
    'current-context': 'vc',
  });
const embedded = kubeconfig({ 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) });

describe('kubeconfigSecret', () => {
  it('has vcluster keys: config plus the PEM files', () => {
    const secret = kubeconfigSecret(embedded, {
      name: 'vc-my',
      namespace: 'vcluster-my',
      labels: { app: 'vcluster', release: 'my' },
    });
    expect(secret.metadata).toEqual({
      name: 'vc-my',
      namespace: 'vcluster-my',
      labels: { app: 'vcluster', release: 'my' },
    });
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data ?? {}).sort()).toEqual([
      'certificate-authority',
      'client-certificate',
      'client-key',
      'config',
    ]);
    expect(decode(secret.data?.['certificate-authority'])).toBe(CA);
    expect(decode(secret.data?.['client-certificate'])).toBe(CERT);
    expect(decode(secret.data?.['client-key'])).toBe(KEY);
    // Without a server the kubeconfig is kept as it is.
    expect(parse(decode(secret.data?.config))).toEqual(parse(embedded));
  });

  it('replaces the server when given', () => {
    const secret = kubeconfigSecret(embedded, {
      name: 's',
      namespace: 'n',
      server: 'https://vc.example.com',
    });
    const config = parse(decode(secret.data?.config));
    expect(config.clusters[0].cluster.server).toBe('https://vc.example.com');
    expect(config.clusters[0].cluster['certificate-authority-data']).toBe(b64(CA));
    expect(config.users[0].user['client-key-data']).toBe(b64(KEY));
  });

  it('inlines files and keeps a token', () => {
    const files: Record<string, string> = {
      '/pki/ca.crt': CA,
      '/pki/admin.crt': CERT,
      '/pki/admin.key': KEY,
    };
    const yaml = kubeconfig(
      { 'client-certificate': '/pki/admin.crt', 'client-key': '/pki/admin.key', token: 'abc' },
      { 'certificate-authority': '/pki/ca.crt', 'certificate-authority-data': undefined },
    );
    const secret = kubeconfigSecret(yaml, {
      name: 's',
      namespace: 'n',
      readFile: (path) => files[path] ?? '',
    });
    expect(decode(secret.data?.['client-certificate'])).toBe(CERT);
    expect(decode(secret.data?.['certificate-authority'])).toBe(CA);
    expect(decode(secret.data?.token)).toBe('abc');
    const config = parse(decode(secret.data?.config));
    expect(config.users[0].user).toEqual({
      token: 'abc',
      'client-certificate-data': b64(CERT),
      'client-key-data': b64(KEY),
    });
    expect(config.clusters[0].cluster['certificate-authority']).toBeUndefined();
  });

  it('refuses file references without a way to read them, and broken kubeconfigs', () => {
    const yaml = kubeconfig({ 'client-certificate': '/pki/admin.crt', 'client-key-data': b64(KEY) });
    expect(() => kubeconfigSecret(yaml, { name: 's', namespace: 'n' })).toThrow(/\/pki\/admin\.crt/);
    expect(() => kubeconfigSecret('clusters: [', { name: 's', namespace: 'n' })).toThrow(
      KubeconfigSecretError,
    );
    expect(() => kubeconfigSecret('{}', { name: 's', namespace: 'n' })).toThrow(/no clusters or users/);
    const noContext = stringify({ ...parse(embedded), 'current-context': 'other' });
    expect(() => kubeconfigSecret(noContext, { name: 's', namespace: 'n' })).toThrow(/current context other/);
  });
});
