// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { describe, expect, it } from 'vitest';
import {
  closestField,
  DEFAULT_URL_TEMPLATE,
  parseRepoConfig,
  RepoConfigError,
  SubstitutionError,
  substitute,
} from './repo-config.ts';

/** The problem lines of a config that must not parse. */
const problemsOf = (text: string): string[] => {
  try {
    parseRepoConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RepoConfigError);
    return (error as RepoConfigError).message.split('\n');
  }
  throw new Error('expected the config to be rejected');
};

describe('substitute', () => {
  const values = {
    pr: { number: 12 },
    sha: 'abc123',
    'preview.host': 'pr-12-shop.preview.example.com',
    repo: { name: 'shop', owner: 'acme' },
    custom: { deep: { key: true } },
  };

  it.each([
    ['image: shop:${{ sha }}', 'image: shop:abc123'],
    ['${{pr.number}}/${{ pr.number }}/${{   pr.number   }}', '12/12/12'],
    ['https://${{ preview.host }}/', 'https://pr-12-shop.preview.example.com/'],
    ['${{ repo.owner }}/${{ repo.name }}', 'acme/shop'],
    ['flag=${{ custom.deep.key }}', 'flag=true'],
    ['no placeholders, ${ sha } and {{ sha }} stay', 'no placeholders, ${ sha } and {{ sha }} stay'],
  ])('%s → %s', (text, expected) => {
    expect(substitute(text, values)).toBe(expected);
  });

  it('lists every unknown placeholder once, with the known ones', () => {
    let error: unknown;
    try {
      substitute('${{ pr.nummber }} ${{ shaa }} ${{ shaa }} ${{ repo }} ${{ sha }}', values);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SubstitutionError);
    expect((error as SubstitutionError).unknown).toEqual(['pr.nummber', 'shaa', 'repo']);
    expect((error as SubstitutionError).message).toContain(
      'unknown placeholders ${{ pr.nummber }}, ${{ shaa }}',
    );
    expect((error as SubstitutionError).message).toContain('${{ repo.owner }}');
  });

  it('does not read inherited properties', () => {
    expect(() => substitute('${{ repo.constructor }}', values)).toThrow(SubstitutionError);
  });
});

describe('closestField', () => {
  const fields = ['manifests', 'helm', 'kustomize', 'expose', 'sleepAfter', 'ttl', 'labels'];
  it.each([
    ['manifest', 'manifests'],
    ['manfests', 'manifests'],
    ['sleep_after', 'sleepAfter'],
    ['sleep-after', 'sleepAfter'],
    ['SleepAfter', 'sleepAfter'],
    ['hlem', 'helm'],
    ['kustomise', 'kustomize'],
    ['label', 'labels'],
    ['image', undefined],
    ['t', undefined],
  ])('%s → %s', (typo, field) => {
    expect(closestField(typo, fields)).toBe(field);
  });
});

describe('parseRepoConfig', () => {
  it('fills in the defaults around the one required choice', () => {
    expect(parseRepoConfig('manifests: k8s/\n')).toEqual({
      manifests: ['k8s/'],
      env: {},
      ttl: '7d',
      sleepAfter: '1h',
      forks: 'approve',
      drafts: false,
      labels: [],
      urlTemplate: DEFAULT_URL_TEMPLATE,
      variables: {},
    });
  });

  it('reads a full config', () => {
    const config = parseRepoConfig(`# preview of the shop
manifests:
  - ./k8s/base
  - k8s//extra.yaml
helm:
  chart: charts/shop
  values:
    replicas: 1
    image: { tag: '\${{ sha }}' }
  valuesFiles: [charts/shop/values-preview.yaml]
kustomize: k8s/overlays/preview
expose:
  service: web
  port: 8080
  path: /shop
env:
  LOG_LEVEL: debug
  VERSION: "1.10"
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { cpu: 1, memory: 1Gi }
ttl: 72h
sleepAfter: 30m
forks: never
drafts: true
labels: [preview, deploy-me]
urlTemplate: \${{ repo.name }}-\${{ pr.number }}.\${{ baseDomain }}
`);
    expect(config).toEqual({
      manifests: ['k8s/base', 'k8s/extra.yaml'],
      helm: {
        chart: 'charts/shop',
        values: { replicas: 1, image: { tag: '${{ sha }}' } },
        valuesFiles: ['charts/shop/values-preview.yaml'],
      },
      kustomize: 'k8s/overlays/preview',
      expose: { service: 'web', port: 8080, path: '/shop' },
      env: { LOG_LEVEL: 'debug', VERSION: '1.10' },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      ttl: '72h',
      sleepAfter: '30m',
      forks: 'never',
      drafts: true,
      labels: ['preview', 'deploy-me'],
      urlTemplate: '${{ repo.name }}-${{ pr.number }}.${{ baseDomain }}',
      variables: {},
    });
  });

  it.each([
    [
      'helm only',
      'helm:\n  chart: charts/app\n',
      { helm: { chart: 'charts/app', values: {}, valuesFiles: [] } },
    ],
    ['kustomize only', 'kustomize: .\n', { kustomize: '.' }],
    ['a single label', 'manifests: k8s\nlabels: preview\n', { labels: ['preview'] }],
    [
      'expose path default',
      'manifests: k8s\nexpose: { service: web, port: 80 }\n',
      { expose: { service: 'web', port: 80, path: '/' } },
    ],
    [
      'a kubernetes quantity given as a number',
      'kustomize: k\nresources: { limits: { memory: 1024 } }\n',
      { resources: { limits: { memory: '1024' } } },
    ],
    [
      'one check to wait for, with the default timeout',
      'manifests: k8s\nwaitFor: { checks: build }\n',
      { waitFor: { checks: ['build'], timeout: '30m' } },
    ],
    [
      'checks to wait for, with a timeout',
      'manifests: k8s\nwaitFor:\n  checks: [build, "test (ubuntu)"]\n  timeout: 1h\n',
      { waitFor: { checks: ['build', 'test (ubuntu)'], timeout: '1h' } },
    ],
    [
      'host secrets and a seed Job',
      'manifests: k8s\nsecrets:\n  - fromHostSecret: db-creds\n    keys: [username, password]\n  - { fromHostSecret: stripe, keys: [key], as: payments, namespace: shop }\nseed:\n  job: ./k8s/seed.yaml\n',
      {
        secrets: [
          { fromHostSecret: 'db-creds', keys: ['username', 'password'], namespace: 'default' },
          { fromHostSecret: 'stripe', keys: ['key'], as: 'payments', namespace: 'shop' },
        ],
        seed: { job: 'k8s/seed.yaml' },
      },
    ],
    [
      'variables with their defaults',
      'manifests: k8s\nvariables:\n  image: "ghcr.io/acme/shop:main"\n  log_level2: ""\n',
      { variables: { image: 'ghcr.io/acme/shop:main', log_level2: '' } },
    ],
    [
      'Pod Security lowered to baseline',
      'manifests: k8s\npodSecurity: baseline\n',
      { podSecurity: 'baseline' },
    ],
  ])('reads %s', (_name, text, expected) => {
    expect(parseRepoConfig(text)).toMatchObject(expected);
  });

  it('merges YAML merge keys before validating', () => {
    const config = parseRepoConfig(
      'manifests: k8s\nhelm:\n  chart: c\n  values:\n    base: &base { a: 1 }\n    more: { <<: *base, b: 2 }\n',
    );
    expect(config.helm?.values).toEqual({ base: { a: 1 }, more: { a: 1, b: 2 } });
  });

  it.each<[string, string, string[]]>([
    [
      'a typo of a field, and nothing else said',
      'manifest: k8s/\n',
      ['.github/vcluster-preview.yml:1: manifest: unknown field (did you mean manifests?)'],
    ],
    [
      'an unknown field far from any',
      'manifests: k8s\nimage: shop:1\n',
      [
        '.github/vcluster-preview.yml:2: image: unknown field (allowed here: manifests, helm, kustomize, expose, env, resources, ttl, sleepAfter, forks, drafts, labels, urlTemplate, waitFor, secrets, seed, variables, podSecurity)',
      ],
    ],
    [
      'nothing to deploy',
      '# comment\ndrafts: true\n',
      [
        '.github/vcluster-preview.yml:2: (top level): nothing to deploy (say what to deploy with manifests:, helm: or kustomize:)',
      ],
    ],
    [
      'an empty file',
      '# only a comment\n',
      [
        '.github/vcluster-preview.yml:1: (top level): the file is empty (say what to deploy with manifests:, helm: or kustomize:)',
      ],
    ],
    [
      'a list instead of a mapping',
      '- k8s\n',
      [
        '.github/vcluster-preview.yml:1: (top level): expected a mapping, got a list (say what to deploy with manifests:, helm: or kustomize:)',
      ],
    ],
    [
      'YAML syntax',
      'manifests: k8s\nlabels: [a, b\n',
      [
        '.github/vcluster-preview.yml:3: (top level): YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (fix the syntax; a YAML linter shows the exact spot)',
      ],
    ],
    [
      'a duplicate key',
      'manifests: k8s\nttl: 1d\nttl: 2d\n',
      [
        '.github/vcluster-preview.yml:3: (top level): YAML: Map keys must be unique (fix the syntax; a YAML linter shows the exact spot)',
      ],
    ],
    [
      'several documents',
      'manifests: k8s\n---\nttl: 1d\n',
      [
        '.github/vcluster-preview.yml:2: (top level): YAML: Source contains multiple documents; please use YAML.parseAllDocuments() (fix the syntax; a YAML linter shows the exact spot)',
      ],
    ],
    [
      'paths outside the repository',
      'manifests: [k8s, /etc/passwd, k8s/../../secrets]\n',
      [
        '.github/vcluster-preview.yml:1: manifests[1]: "/etc/passwd" is absolute (give a path relative to the repository root, like k8s/app.yaml)',
        '.github/vcluster-preview.yml:1: manifests[2]: "k8s/../../secrets" leaves the repository (..) (give a path relative to the repository root, like k8s/app.yaml)',
      ],
    ],
    [
      'an empty list and an empty value',
      'manifests: []\nkustomize:\n',
      [
        '.github/vcluster-preview.yml:1: manifests: is empty (give a folder or file in the repository, like k8s/, or a list of them)',
        '.github/vcluster-preview.yml:2: kustomize: expected a string, got nothing (give the folder that holds kustomization.yaml, like k8s/overlays/preview)',
      ],
    ],
    [
      'helm without a chart, and wrong values',
      'helm:\n  values: 3\n  valuesFile: [a.yaml]\n',
      [
        '.github/vcluster-preview.yml:1: helm.chart: is required (give the chart folder relative to the repository root, like charts/app)',
        '.github/vcluster-preview.yml:2: helm.values: expected a mapping, got 3 (give a mapping of chart values)',
        '.github/vcluster-preview.yml:3: helm.valuesFile: unknown field (did you mean valuesFiles?)',
      ],
    ],
    [
      'expose, field by field',
      'manifests: k8s\nexpose:\n  service: Web_1\n  port: "8080"\n  path: app\n',
      [
        '.github/vcluster-preview.yml:3: expose.service: "Web_1" is not a Service name (give the name of the Service in your manifests that serves the app, like web)',
        '.github/vcluster-preview.yml:4: expose.port: expected a number, got "8080" (give the port number of that Service, like 80 or 8080)',
        '.github/vcluster-preview.yml:5: expose.path: "app" does not start with / (give a plain URL path starting with /, like / or /app/ (letters, digits, - _ . ~ and /))',
      ],
    ],
    [
      'expose without a port',
      'manifests: k8s\nexpose: { service: web }\n',
      [
        '.github/vcluster-preview.yml:2: expose.port: is required (give the port number of that Service, like 80 or 8080)',
      ],
    ],
    [
      'a port that is not whole',
      'manifests: k8s\nexpose:\n  service: web\n  port: 80.5\n',
      [
        '.github/vcluster-preview.yml:4: expose.port: expected a whole number, got 80.5 (give the port number of that Service, like 80 or 8080)',
      ],
    ],
    [
      'a port too large',
      'manifests: k8s\nexpose: { service: web, port: 70000 }\n',
      [
        '.github/vcluster-preview.yml:2: expose.port: must be at most 65535 (give the port number of that Service, like 80 or 8080)',
      ],
    ],
    [
      'env values YAML reads as numbers, and bad names',
      'manifests: k8s\nenv:\n  VERSION: 1.10\n  bad-name: x\n',
      [
        '.github/vcluster-preview.yml:3: env.VERSION: expected a string, got 1.1 (quote the value, like "1.10" or "true")',
        '.github/vcluster-preview.yml:4: env.bad-name: "bad-name" is not a variable name (use letters, digits and _, not starting with a digit)',
      ],
    ],
    [
      'resources',
      'manifests: k8s\nresources:\n  limits:\n    cpu: lots\n    memroy: 1Gi\n  request: {}\n',
      [
        '.github/vcluster-preview.yml:4: resources.limits.cpu: "lots" is not a quantity (use a Kubernetes quantity like 500m or 2)',
        '.github/vcluster-preview.yml:5: resources.limits.memroy: unknown field (did you mean memory?)',
        '.github/vcluster-preview.yml:6: resources.request: unknown field (did you mean requests?)',
      ],
    ],
    [
      'durations, fork policy, drafts, labels',
      'manifests: k8s\nttl: 3 days\nsleep_after: 1h\nforks: maybe\ndrafts: yes\nlabels: []\n',
      [
        '.github/vcluster-preview.yml:2: ttl: "3 days" is not a duration (use a number and a unit s, m, h, d or w, like 72h or 7d)',
        '.github/vcluster-preview.yml:3: sleep_after: unknown field (did you mean sleepAfter?)',
        '.github/vcluster-preview.yml:4: forks: expected one of approve, never, always, got "maybe" (approve: deploy after a maintainer comments /vcluster approve; never; always)',
        '.github/vcluster-preview.yml:5: drafts: expected true or false, got "yes" (use true or false)',
        '.github/vcluster-preview.yml:6: labels: is empty (give a label name or a list of them, like [preview])',
      ],
    ],
    [
      'a duration that is a bare number',
      'manifests: k8s\nsleepAfter: 60\n',
      [
        '.github/vcluster-preview.yml:2: sleepAfter: expected a string, got 60 (use a number and a unit s, m, h, d or w, like 30m or 1h)',
      ],
    ],
    [
      'a repository asking for privileged pods',
      'manifests: k8s\npodSecurity: privileged\n',
      [
        '.github/vcluster-preview.yml:2: podSecurity: expected one of baseline, restricted, got "privileged" (restricted is the default; baseline lowers it where the service allows; privileged is never a repository’s choice)',
      ],
    ],
    [
      'waitFor without checks, with a bad timeout and a typo',
      'manifests: k8s\nwaitFor:\n  check: build\n  timeout: soon\n',
      [
        '.github/vcluster-preview.yml:2: waitFor.checks: is required (give a check run name or a list of them, as the Checks tab shows them, like [build])',
        '.github/vcluster-preview.yml:3: waitFor.check: unknown field (did you mean checks?)',
        '.github/vcluster-preview.yml:4: waitFor.timeout: "soon" is not a duration (use a number and a unit s, m, h, d or w, like 30m or 1h)',
      ],
    ],
    [
      'waitFor with an empty list of checks',
      'manifests: k8s\nwaitFor: { checks: [] }\n',
      [
        '.github/vcluster-preview.yml:2: waitFor.checks: is empty (give a check run name or a list of them, as the Checks tab shows them, like [build])',
      ],
    ],
    [
      'host secrets, field by field',
      'manifests: k8s\nsecrets:\n  - fromHostSecret: DB_creds\n    keys: []\n  - fromHostSecret: db\n    keys: [a/b]\n    as: Db\n    namespace: my.ns\n    key: x\n  - { keys: [a] }\n',
      [
        '.github/vcluster-preview.yml:3: secrets[0].fromHostSecret: "DB_creds" is not a Secret name (give the name of a host Secret the service\'s operator allows for this repository (PREVIEW_HOST_SECRETS))',
        '.github/vcluster-preview.yml:4: secrets[0].keys: is empty (give the list of keys to copy, like [username, password])',
        '.github/vcluster-preview.yml:6: secrets[1].keys[0]: "a/b" is not a Secret key (give a key of that Secret (letters, digits, -, _ and .))',
        '.github/vcluster-preview.yml:7: secrets[1].as: "Db" is not a Secret name (give the name the Secret gets in the virtual cluster (lowercase letters, digits, - and .))',
        '.github/vcluster-preview.yml:8: secrets[1].namespace: "my.ns" is not a namespace name (give the namespace of the virtual cluster it goes to (default: default))',
        '.github/vcluster-preview.yml:9: secrets[1].key: unknown field (did you mean keys?)',
        ".github/vcluster-preview.yml:10: secrets[2].fromHostSecret: is required (give the name of a host Secret the service's operator allows for this repository (PREVIEW_HOST_SECRETS))",
      ],
    ],
    [
      'two host secrets copied to one name',
      'manifests: k8s\nsecrets:\n  - { fromHostSecret: a, keys: [k] }\n  - { fromHostSecret: b, keys: [k], as: a }\n',
      [
        '.github/vcluster-preview.yml:4: secrets[1]: copies a second Secret to default/a (give fromHostSecret: and keys:, and optionally as: and namespace:; each target Secret once)',
      ],
    ],
    [
      'a seed that is not a Job path',
      'manifests: k8s\nseed: k8s/seed.yaml\n',
      [
        '.github/vcluster-preview.yml:2: seed: expected a mapping, got "k8s/seed.yaml" (give job: with the path of a Job manifest, like k8s/seed-job.yaml)',
      ],
    ],
    [
      'a seed Job outside the repository, and a typo',
      'manifests: k8s\nseed:\n  job: ../seed.yaml\n  jobs: x\n',
      [
        '.github/vcluster-preview.yml:3: seed.job: "../seed.yaml" leaves the repository (..) (give the path of a Job manifest relative to the repository root, like k8s/seed-job.yaml)',
        '.github/vcluster-preview.yml:4: seed.jobs: unknown field (did you mean job?)',
      ],
    ],
    [
      'variables with bad names and values',
      `manifests: k8s\nvariables:\n  Image: x\n  replicas: 2\n  long: "${'x'.repeat(1025)}"\n  two_lines: "a\\nb"\n`,
      [
        '.github/vcluster-preview.yml:3: variables.Image: "Image" is not a variable name (lowercase letters, digits and _, starting with a letter) (use lowercase letters, digits and _, starting with a letter, like image)',
        '.github/vcluster-preview.yml:4: variables.replicas: expected a string, got 2 (quote the value, one line of at most 1024 characters, like "ghcr.io/acme/shop:main")',
        '.github/vcluster-preview.yml:5: variables.long: is longer than 1024 characters (quote the value, one line of at most 1024 characters, like "ghcr.io/acme/shop:main")',
        '.github/vcluster-preview.yml:6: variables.two_lines: "a\\nb" has a line break or another control character (quote the value, one line of at most 1024 characters, like "ghcr.io/acme/shop:main")',
      ],
    ],
    [
      'variables that are not a mapping',
      'manifests: k8s\nvariables: [image]\n',
      [
        '.github/vcluster-preview.yml:2: variables: expected a mapping, got a list (give a mapping of name: "default value" for ${{ variables.name }}; a workflow may set them with the Action\'s variables: input)',
      ],
    ],
    [
      'more than 20 variables',
      `manifests: k8s\nvariables:\n${Array.from({ length: 21 }, (_, i) => `  v${i}: x\n`).join('')}`,
      [
        '.github/vcluster-preview.yml:2: variables: has more than 20 names (give a mapping of name: "default value" for ${{ variables.name }}; a workflow may set them with the Action\'s variables: input)',
      ],
    ],
  ])('reports %s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it.each([
    ['an unknown placeholder', 'pr-${{ pr.nummer }}.${{ baseDomain }}', 'uses unknown ${{ pr.nummer }}'],
    ['preview.host, which it defines', '${{ preview.host }}', 'uses unknown ${{ preview.host }}'],
    ['characters a host name cannot have', 'PR_${{ pr.number }}.${{ baseDomain }}', 'is not a host name'],
    ['a scheme', 'https://${{ baseDomain }}', 'is not a host name'],
    ['a host of its own', 'www.victim.com', 'does not end in .${{ baseDomain }}'],
    ['a top-level domain', 'com', 'does not end in .${{ baseDomain }}'],
    ['the domain alone', '${{ baseDomain }}', 'does not end in .${{ baseDomain }}'],
    ['more after the domain', 'x.${{ baseDomain }}.evil.com', 'does not end in .${{ baseDomain }}'],
    ['the domain twice', '${{ baseDomain }}.${{ baseDomain }}', 'does not end in .${{ baseDomain }}'],
  ])('rejects a urlTemplate with %s', (_name, template, message) => {
    const [line] = problemsOf(`manifests: k8s\nurlTemplate: "${template}"\n`);
    expect(line).toContain(`.github/vcluster-preview.yml:2: urlTemplate: "${template}" ${message}`);
  });

  it.each([
    ['a second slash', '//evil.example.com/'],
    ['a parent segment', '/app/../admin'],
    ['a query', '/app?x=1'],
    ['an encoded character', '/app%2F..'],
    ['a regular expression', '/app(/|$)(.*)'],
    ['a space', '/my app'],
    ['a backslash', '/app\\admin'],
  ])('rejects an expose.path with %s', (_name, path) => {
    const [line] = problemsOf(
      `manifests: k8s\nexpose:\n  service: web\n  port: 80\n  path: ${JSON.stringify(path)}\n`,
    );
    expect(line).toMatch(
      /^\.github\/vcluster-preview\.yml:5: expose\.path: .* (is not a plain URL path|has a \. or \.\. segment) \(give a plain URL path/,
    );
  });

  it.each(['/', '/app', '/app/', '/v1.2/api_docs/~me'])('accepts the plain path %s', (path) => {
    const config = parseRepoConfig(`manifests: k8s\nexpose:\n  service: web\n  port: 80\n  path: ${path}\n`);
    expect(config.expose?.path).toBe(path);
  });

  it('keeps the problems as data for callers that render them differently', () => {
    try {
      parseRepoConfig('manifests: k8s\nforks: sometimes\n');
    } catch (error) {
      expect((error as RepoConfigError).problems).toEqual([
        {
          line: 2,
          path: 'forks',
          message: 'expected one of approve, never, always, got "sometimes"',
          hint: 'approve: deploy after a maintainer comments /vcluster approve; never; always',
        },
      ]);
    }
    expect.assertions(1);
  });
});
