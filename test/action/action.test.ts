import { randomBytes } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { previewAnnotations, previewLabels } from '../../app/preview-metadata.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import type { Reconcile } from '../../app/queue/preview-worker.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { ignoreNotFound, kubeClients } from '../../kube/client.ts';
import { previewHostAccess } from '../../preview/host-access.ts';
import { annotations, labels } from '../../preview/provider.ts';
import { runAction } from '../support/action-runner.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { serviceEnv } from '../support/preview-service.ts';
import type { PullRequestSpec } from '../support/webhooks.ts';

/**
 * The bundled Action (action/dist/index.js) run as the runner runs it (test/support/action-runner.ts)
 * against a running service (role all) whose OIDC issuer and GitHub are the double.
 */

const hostKubeconfig = inject('hostKubeconfig');
const redisUrl = inject('redisUrl');
const OWNER = 'acme';
const REPO = 'actioned';
const REPOSITORY = `${OWNER}/${REPO}`;
const host = kubeClients(hostKubeconfig);
const hostAccess = previewHostAccess(hostKubeconfig);

/**
 * The worker's reconcile for this test: it marks the preview's host namespace the way the real
 * reconciler and the kubernetes provider do (labels, state, commit) and serves it under its URL
 * with the host Ingress, reporting steps as job progress. The status endpoint reads those back.
 * Only `up` is needed here; the real reconcile is tested in test/app/reconcile.test.ts and e2e.
 */
const markingReconcile: Reconcile = async (job, ctx) => {
  if (job.desired.kind !== 'up')
    throw new UnrecoverableError(`this test reconcile does up only, not ${job.desired.kind}`);
  const { sha } = job.desired;
  const ref = previewName(job.repo, job.pr);
  const steps = [
    { name: 'Host namespace', status: 'running' },
    { name: 'Expose', status: 'pending' },
  ];
  await ctx.progress({ desired: 'up', sha, steps });
  await host.core.createNamespace({
    body: {
      metadata: {
        name: ref.namespace,
        labels: {
          ...previewLabels(job.repo, job.pr, job.installationId),
          [labels.vcluster]: ref.name,
          [labels.provider]: 'kubernetes',
        },
        annotations: { ...previewAnnotations(job.repo, sha), [annotations.state]: 'running' },
      },
    },
  });
  await ctx.progress({
    desired: 'up',
    sha,
    steps: [
      { ...steps[0], status: 'done' },
      { ...steps[1], status: 'running' },
    ],
  });
  const url = await hostAccess.expose({
    hostNamespace: ref.namespace,
    vclusterName: ref.name,
    service: 'hello',
    port: 80,
    previewHost: `${ref.name}.preview.test`,
    labels: previewLabels(job.repo, job.pr, job.installationId),
  });
  return { state: 'ready', url };
};

let github: GitHubDouble;
let service: RunningService;
let queue: PreviewQueue;
const namespaces: string[] = [];

beforeAll(async () => {
  github = await startGitHubDouble();
  github.addRepo(OWNER, REPO, { installationId: 3 });
  // The runs' actor (the runner's token names octocat) may do what `/vcluster` commands need.
  github.setPermission(OWNER, REPO, 'octocat', 'write');
  service = await startService({
    role: 'all',
    env: {
      ...(await serviceEnv({ github, hostKubeconfig, redisUrl, webhookSecret: 'whsec' })),
      // Namespaces marked like the kubernetes provider's: read back without a runner process.
      VCLUSTER_PROVIDER: 'kubernetes',
      KUBECONFIG: await kubeconfigFile(hostKubeconfig),
    },
    queueName: `test-action-${randomBytes(4).toString('hex')}`,
    logger: pino({ level: 'silent' }),
    reconcile: markingReconcile,
    handleSignals: false,
  });
  queue = service.queue as PreviewQueue;
});

afterAll(async () => {
  await queue?.queue.obliterate({ force: true });
  await service?.stop();
  await github?.stop();
  for (const name of namespaces) {
    await host.core.deleteNamespace({ name }).catch((error) => {
      ignoreNotFound(error);
    });
  }
});

const run = (spec: PullRequestSpec, inputs: Record<string, string>) =>
  runAction({ github, serviceUrl: service.url!, spec, inputs });

describe('the Action, bundled, against the running service', () => {
  it('up on a pull_request event: queued, reconciled, waited for; outputs url, state, namespace, sha', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 21, headSha: 'c'.repeat(40) };
    github.addPullRequest(spec);
    const { namespace, name } = previewName(REPOSITORY, spec.number);
    namespaces.push(namespace);

    const result = await run(spec, { timeout: '60s' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toEqual({
      state: 'ready',
      url: `https://${name}.preview.test`,
      sha: spec.headSha,
      namespace,
      'job-id': expect.stringMatching(/^pr-acme--actioned-21-/),
    });
    // The job ran for this pull request and left its marks on the host cluster, which the status read back.
    const marked = await host.core.readNamespace({ name: namespace });
    expect(marked.metadata?.annotations?.[annotations.commit]).toBe(spec.headSha);
    const finished = await queue.queue.getJob(result.outputs['job-id']!);
    expect(finished?.data).toMatchObject({
      repo: REPOSITORY,
      pr: 21,
      installationId: 3,
      requestedBy: 'octocat',
    });
    expect(await finished?.getState()).toBe('completed');
    expect(result.stdout).toMatch(/Asking http:\/\/127\.0\.0\.1:\d+ to up the preview of pull request #21/);
    expect(result.stdout).toMatch(/Preview ready: https:\/\/pr-21-acme--actioned\.preview\.test/);
    expect(result.summary).toContain('<td>ready</td>');
    // The token came from the runtime route with the Action's audience, as core.getIDToken asks it.
    expect(github.callsTo('GET', '/_apis/actions/idtoken').map((call) => call.query.audience)).toContain(
      service.url,
    );
  });

  it('a preview that fails: the step fails with the error and its hint', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 23, headSha: 'e'.repeat(40) };
    github.addPullRequest(spec);
    // The test reconcile refuses anything but up, as a job that cannot succeed: it fails at once.
    const result = await run(spec, { action: 'reset', timeout: '60s' });
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({ state: 'failed', sha: spec.headSha });
    expect(result.stdout).toMatch(/::error::The preview failed: this test reconcile does up only, not reset/);
    expect(result.stdout).toMatch(/Hint: the sticky comment on the pull request shows the failed step/);
  });

  it('a refused token (401): the step fails with the reason and the hint, nothing is queued', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 22, headSha: 'd'.repeat(40) };
    github.addPullRequest(spec);
    const result = await run(spec, { audience: 'someone-else' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::the service answered 401: the token was refused: wrong audience "someone-else" \(expected http:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(result.stdout).toMatch(/Hint: request the token for the service's audience/);
    expect(result.outputs).toEqual({});
    const jobs = await queue.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    expect(jobs.filter((job) => job.data.pr === 22)).toEqual([]);
  });
});
