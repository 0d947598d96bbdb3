import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type KubeconfigCandidates,
  KubeconfigError,
  kubeconfigSource,
  mergeKubeconfigs,
  useContext,
} from './kubeconfig.ts';

describe('kubeconfigSource: which kubeconfig a command uses', () => {
  const home = '/home/u/.kube/config';
  const embedded = '/state/host/kubeconfig';
  const on =
    (...files: string[]) =>
    (file: string) =>
      files.includes(file);

  it.each<{ what: string; given: Omit<KubeconfigCandidates, 'home'>; expected: unknown }>([
    {
      what: '--kubeconfig before everything',
      given: { flag: 'a.yaml', env: '/b', embedded, exists: on('/b', home) },
      expected: { origin: '--kubeconfig', files: ['a.yaml'], embedded: false },
    },
    {
      what: '--kubeconfig naming the embedded host’s file is the embedded host',
      given: { flag: embedded, embedded, exists: on() },
      expected: { origin: '--kubeconfig', files: [embedded], embedded: true },
    },
    {
      what: '$KUBECONFIG before the embedded host',
      given: { env: '/b', embedded, exists: on('/b', home) },
      expected: { origin: 'KUBECONFIG', files: ['/b'], embedded: false },
    },
    {
      what: '$KUBECONFIG is a list; missing files are skipped, as kubectl does',
      given: { env: '/a::/b:/c', exists: on('/a', '/c') },
      expected: { origin: 'KUBECONFIG', files: ['/a', '/c'], embedded: false },
    },
    {
      what: '$KUBECONFIG as `host up` prints it is the embedded host',
      given: { env: embedded, embedded, exists: on(embedded) },
      expected: { origin: 'KUBECONFIG', files: [embedded], embedded: true },
    },
    {
      what: 'an empty $KUBECONFIG is unset',
      given: { env: '', embedded, exists: on(home) },
      expected: { origin: 'the embedded host cluster', files: [embedded], embedded: true },
    },
    {
      what: 'the embedded host while it runs, before ~/.kube/config',
      given: { embedded, exists: on(home, embedded) },
      expected: { origin: 'the embedded host cluster', files: [embedded], embedded: true },
    },
    {
      what: '~/.kube/config last',
      given: { exists: on(home) },
      expected: { origin: '~/.kube/config', files: [home], embedded: false },
    },
    { what: 'none at all', given: { exists: on() }, expected: undefined },
  ])('$what', ({ given, expected }) => {
    expect(kubeconfigSource({ ...given, home })).toEqual(expected);
  });

  it('refuses a $KUBECONFIG none of whose files exists, saying what to do', () => {
    expect(() => kubeconfigSource({ env: '/a:/b', home, exists: on(home) })).toThrow(
      new KubeconfigError(
        'KUBECONFIG names no file that exists (/a, /b): point it at a kubeconfig, unset it, or pass --kubeconfig FILE',
      ),
    );
  });
});

const kubeconfig = (options: {
  clusters: [string, Record<string, unknown>][];
  users?: [string, Record<string, unknown>][];
  contexts: [string, string][];
  current?: string;
}) => `apiVersion: v1
kind: Config
clusters:
${options.clusters.map(([name, cluster]) => `  - name: ${name}\n    cluster: ${JSON.stringify(cluster)}`).join('\n')}
users:
${(options.users ?? []).map(([name, user]) => `  - name: ${name}\n    user: ${JSON.stringify(user)}`).join('\n')}
contexts:
${options.contexts.map(([name, cluster]) => `  - name: ${name}\n    context: { cluster: ${cluster}, user: ${cluster} }`).join('\n')}
${options.current ? `current-context: ${options.current}` : ''}
`;

describe('mergeKubeconfigs', () => {
  const first = {
    path: '/home/u/.kube/config',
    text: kubeconfig({
      clusters: [['prod', { server: 'https://prod:6443', 'certificate-authority': 'certs/prod-ca.crt' }]],
      users: [['prod', { 'client-certificate': '/abs/prod.crt', 'client-key': 'prod.key' }]],
      contexts: [['prod', 'prod']],
      current: 'prod',
    }),
  };
  const second = {
    path: '/tmp/kind.yaml',
    text: kubeconfig({
      clusters: [
        ['prod', { server: 'https://shadowed:6443' }],
        ['kind', { server: 'https://127.0.0.1:40000' }],
      ],
      users: [['kind', { token: 't' }]],
      contexts: [['kind', 'kind']],
      current: 'kind',
    }),
  };
  const merged = (files: { path: string; text: string }[], context?: string) =>
    parse(mergeKubeconfigs(files, context));

  it('one file: its contexts, and file paths made absolute from its folder', () => {
    const config = merged([first]);
    expect(config['current-context']).toBe('prod');
    expect(config.clusters).toEqual([
      {
        name: 'prod',
        cluster: { server: 'https://prod:6443', 'certificate-authority': '/home/u/.kube/certs/prod-ca.crt' },
      },
    ]);
    expect(config.users[0].user).toEqual({
      'client-certificate': '/abs/prod.crt',
      'client-key': '/home/u/.kube/prod.key',
    });
  });

  it('several files as kubectl merges them: the first name and the first current-context win', () => {
    const config = merged([first, second]);
    expect(config['current-context']).toBe('prod');
    expect(
      config.clusters.map((c: { name: string; cluster: { server: string } }) => c.cluster.server),
    ).toEqual(['https://prod:6443', 'https://127.0.0.1:40000']);
    expect(config.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'kind']);
  });

  it('--context becomes the current context', () => {
    expect(merged([first, second], 'kind')['current-context']).toBe('kind');
  });

  it.each<{ what: string; files: { path: string; text: string }[]; context?: string; message: string }>([
    {
      what: 'a --context it does not have',
      files: [first, second],
      context: 'staging',
      message:
        '--context staging: no such context in /home/u/.kube/config, /tmp/kind.yaml (one of prod, kind)',
    },
    {
      what: 'no current-context and no --context',
      files: [{ path: '/k', text: kubeconfig({ clusters: [['a', {}]], contexts: [['a', 'a']] }) }],
      message: '/k sets no current-context: pass --context NAME (one of a)',
    },
    {
      what: 'a current-context that is not one of its contexts',
      files: [
        { path: '/k', text: kubeconfig({ clusters: [['a', {}]], contexts: [['a', 'a']], current: 'b' }) },
      ],
      message: '/k: current-context b is not one of its contexts; pass --context NAME (one of a)',
    },
    { what: 'not YAML', files: [{ path: '/k', text: 'a: [' }], message: '/k is not YAML' },
    { what: 'not a mapping', files: [{ path: '/k', text: '- a' }], message: '/k is not a kubeconfig' },
    {
      what: 'a list entry without a name',
      files: [{ path: '/k', text: 'clusters:\n  - cluster: {}\n' }],
      message: '/k: clusters must be a list of entries with a name',
    },
  ])('refuses $what, saying what to do', ({ files, context, message }) => {
    expect(() => mergeKubeconfigs(files, context)).toThrow(KubeconfigError);
    expect(() => mergeKubeconfigs(files, context)).toThrow(message);
  });

  it('gives a kubeconfig the Kubernetes client loads, at the chosen context', () => {
    const config = new KubeConfig();
    config.loadFromString(mergeKubeconfigs([first, second], 'kind'));
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:40000');
    expect(config.getCurrentUser()?.token).toBe('t');
  });
});

describe('useContext', () => {
  const loaded = () => {
    const config = new KubeConfig();
    config.loadFromString(
      kubeconfig({
        clusters: [
          ['a', { server: 'https://a:6443' }],
          ['b', { server: 'https://b:6443' }],
        ],
        contexts: [
          ['a', 'a'],
          ['b', 'b'],
        ],
        current: 'a',
      }),
    );
    return config;
  };

  it('selects the context, or keeps the current one without --context', () => {
    expect(useContext(loaded(), 'b').getCurrentCluster()?.server).toBe('https://b:6443');
    expect(useContext(loaded(), undefined).getCurrentCluster()?.server).toBe('https://a:6443');
  });

  it('refuses a context the kubeconfig does not have', () => {
    expect(() => useContext(loaded(), 'c')).toThrow(
      '--context c: no such context in the kubeconfig (one of a, b)',
    );
  });
});
