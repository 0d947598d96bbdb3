import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { previewName } from '../../app/desired-state.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { CI_SERVICE_ACCOUNT } from '../../preview/ci-kubeconfig.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { scopedKubeconfig } from '../../preview/scoped-kubeconfig.ts';
import { type ActionRun, runAction } from '../support/action-runner.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import type { PullRequestSpec } from '../support/webhooks.ts';

/**
 * The Action's `kubeconfig` against a REAL preview: the service (web + worker, the real reconciler,
 * the local provider on the kwok host) makes the pull request's virtual cluster and deploys the
 * example app; the bundled Action writes a kubeconfig with which the real kubectl reads that
 * virtual cluster, and nothing else.
 */

const hostKubeconfig = inject('hostKubeconfig');
const OWNER = 'acme';
const REPO = 'kubed';
const REPOSITORY = `${OWNER}/${REPO}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const host = kubeClients(hostKubeconfig);
/** The Action waits for the real virtual cluster and the deploy (about 20-60 s on 2 cores). */
const ACTION_TIMEOUT = { timeout: '240s' };
const RUN_MS = 260_000;

let flow: PreviewFlow;

beforeAll(async () => {
  flow = await startPreviewFlow({
    owner: OWNER,
    repo: REPO,
    hostKubeconfig,
    redisUrl: inject('redisUrl'),
    installationId: 5,
    // The runs' actor (the runner's token names octocat) may do what `/vcluster` commands need.
    permissions: { octocat: 'write' },
  });
});

afterAll(async () => {
  await flow?.stop();
});

const openPullRequest = async (spec: Omit<PullRequestSpec, 'owner' | 'repo'>) => {
  const full = { owner: OWNER, repo: REPO, ...spec };
  await seedExample(flow.github, OWNER, REPO, spec.headSha);
  flow.github.addPullRequest(full);
  return full;
};

const run = (spec: PullRequestSpec, inputs: Record<string, string>, event: 'opened' | 'closed' = 'opened') =>
  runAction({ github: flow.github, serviceUrl: flow.service.url!, spec, inputs, event, timeoutMs: RUN_MS });

/** What kubectl says with a kubeconfig (YAML), or what it failed with. */
async function kubectl(kubeconfig: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    return {
      ok: true,
      out: await runBinary('kubectl', args, { kubeconfig: await kubeconfigFile(kubeconfig) }),
    };
  } catch (error) {
    return { ok: false, out: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}

const tokenOf = (kubeconfig: string): string => parse(kubeconfig).users[0].user.token;

/** The preview that the first test makes, for the later ones. */
let first: { spec: PullRequestSpec; result: ActionRun; kubeconfig: string; token: string } | undefined;

describe('the Action writes a kubeconfig of the real preview', () => {
  it('kubectl lists the preview’s pods with it; the file is 0600, the token in no output and no log line', async () => {
    const spec = await openPullRequest({ number: 31, headSha: sha('3') });
    const result = await run(spec, { kubeconfig: 'true', ...ACTION_TIMEOUT });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.state).toBe('ready');

    const path = result.outputs['kubeconfig-path']!;
    expect(path).toBe(join(result.runnerTemp, 'vcluster-preview', 'pr-31.kubeconfig'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const kubeconfig = readFileSync(path, 'utf8');
    const token = tokenOf(kubeconfig);
    first = { spec, result, kubeconfig, token };

    // The real kubectl, with nothing but that file, sees the app's pods in the virtual cluster.
    const pods = await runBinary('kubectl', ['get', 'pods', '-A'], { kubeconfig: path });
    expect(pods).toMatch(/^default\s+hello-[a-z0-9]+-[a-z0-9]+\s/m);
    const whoami = await runBinary(
      'kubectl',
      ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
      {
        kubeconfig: path,
      },
    );
    expect(whoami).toBe(`system:serviceaccount:${CI_SERVICE_ACCOUNT.namespace}:${CI_SERVICE_ACCOUNT.name}`);
    // A service-account token that ends: an hour from when it was made, and no client certificate.
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(kubeconfig).not.toMatch(/client-certificate|client-key/);

    // The token: masked for the runner (its one `::add-mask::` line), and nowhere else.
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`::add-mask::${token}`);
    expect(lines.filter((line) => line !== `::add-mask::${token}` && line.includes(token))).toEqual([]);
    expect(result.outputFile).not.toContain(token);
    expect(result.outputFile).toContain(path);
    expect(result.summary).not.toContain(token);
    // The job summary: state, URL, commit and the time each step took.
    expect(result.summary).toContain('<tr><td>State</td><td>ready</td></tr>');
    expect(result.summary).toContain(`<code>${spec.headSha.slice(0, 7)}</code>`);
    expect(result.summary).toContain(result.outputs.url);
    expect(result.summary).toMatch(/<h4>Steps<\/h4>.*<td>✓ done<\/td><td>\d+\.\d s<\/td>/s);
  });

  it('its token reads neither another preview nor the host cluster', async () => {
    expect(first, 'the first test made the preview of #31').toBeDefined();
    const spec = await openPullRequest({ number: 32, headSha: sha('4') });
    const result = await run(spec, { kubeconfig: 'true', ...ACTION_TIMEOUT });
    expect(result.code, result.stdout).toBe(0);
    const other = readFileSync(result.outputs['kubeconfig-path']!, 'utf8');
    expect(tokenOf(other)).not.toBe(first!.token);
    expect((await kubectl(other, ['get', 'pods', '-A'])).out).toMatch(/^default\s+hello-/m);

    // #31's token at #32's API server: each virtual cluster signs with a key of its own.
    const crossed = await kubectl(
      scopedKubeconfig({ adminKubeconfig: other, name: 'crossed', token: first!.token }),
      ['get', 'pods', '-A'],
    );
    expect(crossed).toEqual({ ok: false, out: expect.stringMatching(/Unauthorized|must be logged in/) });
    // And at the host's API server.
    const atHost = await kubectl(
      scopedKubeconfig({ adminKubeconfig: hostKubeconfig, name: 'host', token: first!.token }),
      ['get', 'namespaces'],
    );
    expect(atHost).toEqual({ ok: false, out: expect.stringMatching(/Unauthorized|must be logged in/) });
  });

  it('a run of a pull request from a fork is refused before anything is asked of the service', async () => {
    const spec = await openPullRequest({ number: 33, headSha: sha('5'), forkOwner: 'stranger' });
    const tokensAsked = flow.github.callsTo('GET', '/_apis/actions/idtoken').length;
    const result = await run(spec, { kubeconfig: 'true', ...ACTION_TIMEOUT });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::input kubeconfig is "true", but this run was triggered by a pull request from the fork stranger\/kubed/,
    );
    expect(result.outputs).toEqual({});
    // Not even an OIDC token was asked for, and nothing was queued.
    expect(flow.github.callsTo('GET', '/_apis/actions/idtoken').length).toBe(tokensAsked);
    const jobs = await flow.service.queue!.queue.getJobs([
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
    ]);
    expect(jobs.filter((job) => job.data.pr === 33)).toEqual([]);
  });

  it('on a closed pull request the default action is down: the preview and its token are gone', async () => {
    expect(first, 'the first test made the preview of #31').toBeDefined();
    const { namespace } = previewName(REPOSITORY, 31);
    const result = await run(first!.spec, ACTION_TIMEOUT, 'closed');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/to down the preview of pull request #31/);
    expect(result.outputs.state).toBe('destroyed');
    expect(await isGone(() => host.core.readNamespace({ name: namespace }))).toBe(true);
    expect(await localProvider({ hostKubeconfig }).get(previewName(REPOSITORY, 31))).toBeUndefined();
    expect((await kubectl(first!.kubeconfig, ['get', 'pods', '-A', '--request-timeout=5s'])).ok).toBe(false);
    const second = await run(
      { owner: OWNER, repo: REPO, number: 32, headSha: sha('4') },
      ACTION_TIMEOUT,
      'closed',
    );
    expect(second.outputs.state).toBe('destroyed');
  });
});
