import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { previewName } from '../../app/desired-state.ts';
import { previewAnnotations, previewLabels } from '../../app/preview-metadata.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import type { Reconcile } from '../../app/queue/preview-worker.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { isNotFound, kubeClients } from '../../kube/client.ts';
import { previewHostAccess } from '../../preview/host-access.ts';
import { annotations, labels } from '../../preview/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { serviceEnv } from '../support/preview-service.ts';
import { type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

/**
 * The bundled Action (action/dist/index.js) run as the runner runs it: a node process with the
 * runner's environment (INPUT_*, GITHUB_EVENT_PATH, GITHUB_OUTPUT, the OIDC token request URL), against
 * a running service (role all) whose OIDC issuer and GitHub are the double.
 */

const hostKubeconfig = inject('hostKubeconfig');
const redisUrl = inject('redisUrl');
const ACTION = join(import.meta.dirname, '..', '..', 'action', 'dist', 'index.js');
const ACTION_YML = join(import.meta.dirname, '..', '..', 'action.yml');
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
      if (!isNotFound(error)) throw error;
    });
  }
});

/** What the runner sets for a step: each input (its action.yml default when not given) as INPUT_<NAME>. */
function inputEnv(given: Record<string, string>): Record<string, string> {
  const declared = parse(readFileSync(ACTION_YML, 'utf8')).inputs as Record<string, { default?: string }>;
  const env: Record<string, string> = {};
  for (const [name, input] of Object.entries(declared)) {
    const value = given[name] ?? input.default;
    // @actions/core reads INPUT_ + the name in upper case with spaces as underscores (dashes stay).
    if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  return env;
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks, as @actions/core writes them. */
function readOutputs(path: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[index]!);
    if (!match) continue;
    const value: string[] = [];
    for (index++; lines[index] !== match[2]; index++) value.push(lines[index]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

async function runAction(spec: PullRequestSpec, inputs: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'vcp-action-'));
  const files = {
    event: join(dir, 'event.json'),
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
  };
  writeFileSync(files.event, JSON.stringify(pullRequestEvent('opened', spec)));
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  const runtime = github.actionsRuntime({ repository: REPOSITORY, actor: 'octocat', sha: spec.headSha });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: files.event,
    GITHUB_SHA: spec.headSha,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: dir,
    ACTIONS_ID_TOKEN_REQUEST_URL: runtime.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: runtime.requestToken,
    ...inputEnv({ 'service-url': service.url!, ...inputs }),
  };
  // Asynchronous: the service under test runs in this process and must keep answering.
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [ACTION], { env, timeout: 90_000 }, (error, out) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: out });
    });
  });
  return { code, stdout, outputs: readOutputs(files.output), summary: readFileSync(files.summary, 'utf8') };
}

describe('the Action, bundled, against the running service', () => {
  it('up on a pull_request event: queued, reconciled, waited for; outputs url, state, namespace, sha', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 21, headSha: 'c'.repeat(40) };
    github.addPullRequest(spec);
    const { namespace, name } = previewName(REPOSITORY, spec.number);
    namespaces.push(namespace);

    const result = await runAction(spec, { timeout: '60s' });
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
      'vcluster-preview',
    );
  });

  it('a preview that fails: the step fails with the error and its hint', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 23, headSha: 'e'.repeat(40) };
    github.addPullRequest(spec);
    // The test reconcile refuses anything but up, as a job that cannot succeed: it fails at once.
    const result = await runAction(spec, { action: 'reset', timeout: '60s' });
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({ state: 'failed', sha: spec.headSha });
    expect(result.stdout).toMatch(/::error::The preview failed: this test reconcile does up only, not reset/);
    expect(result.stdout).toMatch(/Hint: the sticky comment on the pull request shows the failed step/);
  });

  it('a refused token (401): the step fails with the reason and the hint, nothing is queued', async () => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 22, headSha: 'd'.repeat(40) };
    github.addPullRequest(spec);
    const result = await runAction(spec, { audience: 'someone-else' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::the service answered 401: the token was refused: wrong audience "someone-else" \(expected vcluster-preview\)/,
    );
    expect(result.stdout).toMatch(/Hint: request the token for the service's audience/);
    expect(result.outputs).toEqual({});
    const jobs = await queue.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    expect(jobs.filter((job) => job.data.pr === 22)).toEqual([]);
  });
});
