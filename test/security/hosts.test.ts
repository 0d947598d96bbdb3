// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const BASE_DOMAIN = 'preview.test';
const WAIT = { timeoutMs: 120_000, intervalMs: 250 };

/**
 * Host names are the service's, not the pull request's: through the real path (signed webhook →
 * worker → virtual cluster on the host), a repository cannot take a host outside the preview domain,
 * another repository's host, or a path that is more than a path; honest previews beside the attacks
 * keep working, each on a host of its own.
 */
describe('security: preview host names', () => {
  let flow: PreviewFlow;
  const host = kubeClients(inject('hostKubeconfig'));

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: 'alice',
      repo: 'shop',
      otherRepos: ['bob/shop', 'mallory/shop'],
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      settings: { BASE_DOMAIN },
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  const sticky = (owner: string, repo: string, pr: number) =>
    flow.github.comments(owner, repo, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';
  /** Opens a pull request whose repository holds the example app, with its config file changed by `edit`. */
  const open = async (fullName: string, pr: number, edit: (config: string) => string = (c) => c) => {
    const [owner, repo] = fullName.split('/') as [string, string];
    const headSha = randomBytes(20).toString('hex');
    await seedExample(flow.github, owner, repo, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, '.github', 'vcluster-preview.yml'), 'utf8');
    flow.github.setFile(owner, repo, headSha, '.github/vcluster-preview.yml', edit(config));
    const spec = { owner, repo, number: pr, headSha };
    flow.github.addPullRequest(spec);
    expect((await flow.post('pull_request', pullRequestEvent('opened', spec))).status).toBeLessThan(300);
    return spec;
  };
  const urlOf = (owner: string, repo: string, pr: number) =>
    waitUntil(async () => /\*\*Preview:\*\* (https:\/\/\S+)/.exec(sticky(owner, repo, pr))?.[1], {
      what: `${owner}/${repo}#${pr}: the preview URL`,
      ...WAIT,
    });
  const failureOf = (owner: string, repo: string, pr: number, pattern: RegExp) =>
    waitUntil(async () => (pattern.test(sticky(owner, repo, pr)) ? sticky(owner, repo, pr) : undefined), {
      what: `${owner}/${repo}#${pr}: the sticky comment to say ${pattern}`,
      ...WAIT,
    });
  const namespaceGone = (repo: string, pr: number) =>
    isGone(() => host.core.readNamespace({ name: previewName(repo, pr).namespace }));

  it('two owners’ repositories of one name get two hosts; a template that takes the first’s host is refused', async () => {
    await open('alice/shop', 1);
    await open('bob/shop', 1);
    const alice = await urlOf('alice', 'shop', 1);
    const bob = await urlOf('bob', 'shop', 1);
    expect(alice).toBe(`https://pr-1-shop-alice.${BASE_DOMAIN}`);
    expect(bob).toBe(`https://pr-1-shop-bob.${BASE_DOMAIN}`);

    // mallory names alice's host in a template of her own: refused, nothing of hers made.
    await open('mallory/shop', 1, (config) => `${config}urlTemplate: "pr-1-shop-alice.\${{ baseDomain }}"\n`);
    const refused = await failureOf('mallory', 'shop', 1, /already served by the preview of alice\/shop#1/);
    expect(refused).toMatch(
      /make urlTemplate in \.github\/vcluster-preview\.yml give a name of this pull request/i,
    );
    expect(await namespaceGone('mallory/shop', 1)).toBe(true);
    // alice's preview is untouched: one Ingress for her host, in her namespace only.
    const ingresses = (await host.networking.listIngressForAllNamespaces()).items.filter((i) =>
      i.spec?.rules?.some((rule) => rule.host === `pr-1-shop-alice.${BASE_DOMAIN}`),
    );
    expect(ingresses.map((i) => i.metadata?.namespace)).toEqual([previewName('alice/shop', 1).namespace]);
  });

  it('two pull requests whose templates give one host, opened at once: exactly one keeps it, the other is refused and leaves nothing', async () => {
    const shared = (config: string) => `${config}urlTemplate: "contested.\${{ baseDomain }}"\n`;
    await Promise.all([open('bob/shop', 2, shared), open('mallory/shop', 2, shared)]);
    const outcome = (owner: string) =>
      waitUntil(
        async () => {
          const body = sticky(owner, 'shop', 2);
          if (body.includes('🚀 Preview ready')) return 'ready';
          return body.includes('Preview failed') ? body : undefined;
        },
        { what: `${owner}/shop#2: ready or refused`, ...WAIT },
      );
    const [bob, mallory] = await Promise.all([outcome('bob'), outcome('mallory')]);
    const refused = [bob, mallory].filter((result) => result !== 'ready');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(
      /the preview host contested\.preview\.test is already served by the preview of (bob|mallory)\/shop#2/,
    );
    const loser = bob === 'ready' ? 'mallory/shop' : 'bob/shop';
    await waitUntil(async () => (await namespaceGone(loser, 2)) || undefined, {
      what: `${loser}#2 gone`,
      ...WAIT,
    });
    const ingresses = (await host.networking.listIngressForAllNamespaces()).items.filter((i) =>
      i.spec?.rules?.some((rule) => rule.host === `contested.${BASE_DOMAIN}`),
    );
    expect(ingresses).toHaveLength(1);
  }, 200_000);

  it.each([
    [
      'a host of its own',
      'urlTemplate: "www.victim.com"',
      /urlTemplate: "www\.victim\.com" does not end in \.\$\{\{ baseDomain \}\}/,
    ],
    [
      'a name after the domain',
      'urlTemplate: "x.${{ baseDomain }}.evil.com"',
      /does not end in \.\$\{\{ baseDomain \}\}/,
    ],
    [
      'an expose.path that is a host',
      null,
      /expose\.path: "\/\/evil\.example\.com\/" is not a plain URL path/,
    ],
  ])('refuses %s with the config line, and makes nothing', async (_name, line, message) => {
    const pr = 10 + Math.floor(Math.random() * 1000);
    await open('mallory/shop', pr, (config) =>
      line === null
        ? config.replace('  port: 80\n', '  port: 80\n  path: "//evil.example.com/"\n')
        : `${config}${line}\n`,
    );
    const body = await failureOf('mallory', 'shop', pr, message);
    expect(body).toMatch(/\.github\/vcluster-preview\.yml:\d+:/);
    expect(await namespaceGone('mallory/shop', pr)).toBe(true);
  });
});
