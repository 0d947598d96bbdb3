// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { EXAMPLE_HELLO, isolatedHome, seedExample, serviceEnv } from '../support/preview-service.ts';
import { postWebhook, pullRequestEvent } from '../support/webhooks.ts';

const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const BASE_DOMAIN = 'preview.test';
const WAIT = { timeoutMs: 120_000, intervalMs: 250 };

/**
 * Host names are the service's, not the pull request's: through the real path (signed webhook →
 * worker → virtual cluster on the host), a repository cannot take a host outside the preview domain,
 * another repository's host, or a path that is more than a path; honest previews beside the attacks
 * keep working, each on a host of its own.
 */
describe('security: preview host names', () => {
  let github: GitHubDouble;
  let service: RunningService;
  const restores: (() => Promise<void>)[] = [];
  const host = kubeClients(inject('hostKubeconfig'));
  const repos = ['alice/shop', 'bob/shop', 'mallory/shop'];

  beforeAll(async () => {
    for (const repo of repos)
      restores.push(isolatedHome(inject('hostKubeconfig'), repo.replace('/', '.')).restore);
    github = await startGitHubDouble();
    for (const repo of repos) {
      const [owner, name] = repo.split('/') as [string, string];
      github.addRepo(owner, name, { installationId: 1 });
    }
    const env = {
      ...(await serviceEnv({
        github,
        hostKubeconfig: inject('hostKubeconfig'),
        redisUrl: inject('redisUrl'),
        webhookSecret: SECRET,
      })),
      BASE_DOMAIN,
    };
    const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
    service = await startService({
      role: 'all',
      env,
      reconcile: await defaultReconciler(loadServiceConfig(env, 'all'), logger),
      queueName: `security-hosts-${randomBytes(4).toString('hex')}`,
      logger,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await (service?.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    for (const restore of restores.reverse()) await restore();
    await github?.stop();
  });

  const sticky = (owner: string, repo: string, pr: number) =>
    github.comments(owner, repo, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';
  /** Opens a pull request whose repository holds the example app, with its config file changed by `edit`. */
  const open = async (fullName: string, pr: number, edit: (config: string) => string = (c) => c) => {
    const [owner, repo] = fullName.split('/') as [string, string];
    const headSha = randomBytes(20).toString('hex');
    await seedExample(github, owner, repo, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, '.github', 'vcluster-preview.yml'), 'utf8');
    github.setFile(owner, repo, headSha, '.github/vcluster-preview.yml', edit(config));
    const spec = { owner, repo, number: pr, headSha };
    github.addPullRequest(spec);
    expect(
      (await postWebhook(service.webhookUrl!, 'pull_request', pullRequestEvent('opened', spec), SECRET))
        .status,
    ).toBeLessThan(300);
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
