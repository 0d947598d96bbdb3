// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'builds';
const FULL_NAME = `${OWNER}/${REPO}`;
const AUDIENCE = 'https://previews.acme.test';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 180_000, intervalMs: 250 };
const CONFIG_PATH = '.github/vcluster-preview.yml';
const DEPLOYMENT_PATH = 'deploy/deployment.yaml';
const DEFAULT_IMAGE = 'nginxinc/nginx-unprivileged:1.27';

/**
 * `variables:` as a repository whose CI builds the image uses it: the config declares `image` with
 * a default, the Deployment says `image: "${{ variables.image }}"`, a push through a signed webhook
 * deploys the default, and the workflow's OIDC-authenticated API request (what the Action sends
 * after its build step) deploys the image it built. The service runs web + worker with the real
 * reconciler and the local provider on the test host.
 */
describe('variables: a workflow sets the image it built', () => {
  let flow: PreviewFlow;
  // Made when used: the flow's state home (VCLUSTER_PREVIEW_HOME) is set in beforeAll.
  const provider = () => localProvider({ hostKubeconfig: inject('hostKubeconfig') });

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      settings: { API_AUDIENCE: AUDIENCE },
      // The workflow runs' actor may redeploy, as the person who pushed may.
      permissions: { octocat: 'write' },
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => flow.stickyComments(pr).find((comment) => matches(comment.body)), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  /** What the workflow's step sends: `POST /api/v1/previews` with its OIDC token. */
  const askWithVariables = async (pr: number, variables: Record<string, string>) => {
    const token = flow.github.issueActionsToken({
      repository: FULL_NAME,
      actor: 'octocat',
      audience: AUDIENCE,
    });
    const response = await fetch(`${flow.service.url}/api/v1/previews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ pullRequest: pr, variables }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** The example app, its image a variable with the example's image as the default. */
  const seedBuildingRepo = async (headSha: string) => {
    await seedExample(flow.github, OWNER, REPO, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, CONFIG_PATH), 'utf8');
    flow.github.setFile(
      OWNER,
      REPO,
      headSha,
      CONFIG_PATH,
      `${config}variables:\n  image: "${DEFAULT_IMAGE}"\n`,
    );
    const deployment = await readFile(join(EXAMPLE_HELLO, DEPLOYMENT_PATH), 'utf8');
    expect(deployment).toContain(`image: ${DEFAULT_IMAGE}`);
    flow.github.setFile(
      OWNER,
      REPO,
      headSha,
      DEPLOYMENT_PATH,
      deployment.replace(`image: ${DEFAULT_IMAGE}`, 'image: "${{ variables.image }}"'),
    );
  };
  const imageIn = async (pr: number) => {
    const virtual = await flow.virtual(pr);
    const deployment = await virtual.apps.readNamespacedDeployment({ name: 'hello', namespace: 'default' });
    return deployment.spec?.template.spec?.containers[0]?.image;
  };

  it('a push deploys the default image; the workflow’s request deploys the one it built', async () => {
    const headSha = sha('4');
    await seedBuildingRepo(headSha);
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 41, headSha };
    flow.github.addPullRequest(spec);
    const post = flow.post('pull_request', pullRequestEvent('opened', spec));
    expect((await post).status).toBeLessThan(300);
    const ready = await waitForSticky(41, 'ready', (body) => body.includes('Preview ready'));
    expect(ready.body).toContain('https://pr-41-');
    expect(await imageIn(41)).toBe(DEFAULT_IMAGE);

    const built = `ghcr.io/acme/builds:${headSha}`;
    const answer = await askWithVariables(41, { image: built });
    expect(answer.status).toBe(202);
    expect(answer.body.desired).toEqual({ kind: 'up', sha: headSha, variables: { image: built } });
    await waitUntil(async () => (await imageIn(41)) === built, {
      what: 'PR #41: the Deployment runs the image the workflow built',
      ...PREVIEW_WAIT,
    });
    await waitUntil(async () => (await flow.service.queue!.place(FULL_NAME, 41)).state === 'none', {
      what: 'PR #41: the workflow’s job finished',
      ...PREVIEW_WAIT,
    });
    expect(flow.stickyComments(41)).toHaveLength(1);
    expect(flow.stickyComments(41)[0]?.body).toContain('Preview ready');
  });

  it('a variable the config does not declare fails the deploy with the reason, and nothing is made', async () => {
    const headSha = sha('5');
    await seedBuildingRepo(headSha);
    flow.github.addPullRequest({ owner: OWNER, repo: REPO, number: 42, headSha });
    const answer = await askWithVariables(42, { image: 'ghcr.io/acme/builds:x', imgae: 'typo' });
    expect(answer.status).toBe(202);
    const failed = await waitForSticky(42, 'failed', (body) => body.includes('Preview failed'));
    expect(failed.body).toContain(
      'the workflow set variable imgae, which .github/vcluster-preview.yml does not declare under variables: (it declares image)',
    );
    expect(failed.body).toContain('Declare each name under variables:');
    await waitUntil(async () => (await flow.service.queue!.place(FULL_NAME, 42)).state === 'none', {
      what: 'PR #42: its job finished',
      ...PREVIEW_WAIT,
    });
    expect(await flow.hostNamespaces(42)).toEqual([]);
    expect(await provider().get(previewName(FULL_NAME, 42))).toBeUndefined();
  });
});
