import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderKubeconfig } from '../controlplane/kubeconfig.ts';
import { VirtualClusterError } from './provider.ts';
import { scopedKubeconfig } from './scoped-kubeconfig.ts';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const admin = renderKubeconfig({
  name: 'vcluster',
  server: 'https://127.0.0.1:6443',
  caCert: CA,
  clientCert: '-----BEGIN CERTIFICATE-----\nadmin\n-----END CERTIFICATE-----\n',
  clientKey: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n',
});
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('scopedKubeconfig', () => {
  it("keeps the admin kubeconfig's server and CA, with the token as its only credential", () => {
    const yaml = scopedKubeconfig({ adminKubeconfig: admin, name: 'pr-12', token: 'jwt.token.x' });
    expect(parse(yaml)).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'pr-12',
          cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(CA) },
        },
      ],
      users: [{ name: 'pr-12', user: { token: 'jwt.token.x' } }],
      contexts: [{ name: 'pr-12', context: { cluster: 'pr-12', user: 'pr-12' } }],
      'current-context': 'pr-12',
      preferences: {},
    });
    // Nothing of the admin's client certificate and key comes along.
    expect(yaml).not.toContain(b64('-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n'));
    expect(yaml).not.toMatch(/client-(certificate|key)/);
  });

  it('takes the current context among several clusters, and sets a default namespace when asked', () => {
    const several = stringify({
      clusters: [
        { name: 'other', cluster: { server: 'https://other:443' } },
        { name: 'mine', cluster: { server: 'https://mine:443', 'tls-server-name': 'kubernetes' } },
      ],
      contexts: [
        { name: 'a', context: { cluster: 'other' } },
        { name: 'b', context: { cluster: 'mine' } },
      ],
      'current-context': 'b',
    });
    const config = parse(
      scopedKubeconfig({ adminKubeconfig: several, name: 'n', token: 't', namespace: 'ci' }),
    );
    expect(config.clusters).toEqual([
      { name: 'n', cluster: { server: 'https://mine:443', 'tls-server-name': 'kubernetes' } },
    ]);
    expect(config.contexts[0].context.namespace).toBe('ci');
  });

  const refusals: [string, string, string, RegExp][] = [
    ['not YAML', '{ oops', 't', /it is not YAML/],
    ['no clusters', stringify({ clusters: [] }), 't', /names no current cluster/],
    [
      'plain http',
      stringify({ clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:8080' } }] }),
      't',
      /server "http:\/\/127\.0\.0\.1:8080" is not an https URL/,
    ],
    [
      'a CA file',
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://x', 'certificate-authority': '/etc/ca.crt' } }],
      }),
      't',
      /its CA is a file/,
    ],
    ['an empty token', admin, '', /the token is empty/],
  ];
  it.each(refusals)('refuses %s, saying what is wrong', (_, adminKubeconfig, token, reason) => {
    const build = () => scopedKubeconfig({ adminKubeconfig, name: 'n', token });
    expect(build).toThrow(VirtualClusterError);
    expect(build).toThrow(reason);
  });
});
