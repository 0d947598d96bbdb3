import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { STICKY_MARKER, type StickyStep } from '../../app/sticky-comment.ts';
import { freePort, pidsMentioning } from '../../controlplane/index.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { isolatedHome, seedExample, serviceEnv } from '../support/preview-service.ts';
import { postWebhook, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'crashy';
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const CLI = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');
const HEAD = 'c'.repeat(40);

/**
 * Pids of this test's processes that are a virtual cluster's API server: a kube-apiserver, or the
 * one-process control plane (vcontrolplane) that runs it beside etcd and the controller manager.
 */
async function apiServersUnder(home: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of pidsMentioning(home)) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (
      argv[0]?.endsWith('kube-apiserver') ||
      (argv[0]?.endsWith('vcontrolplane') && argv.includes('kube-apiserver'))
    )
      pids.push(pid);
  }
  return pids;
}

/**
 * A worker process killed with SIGKILL in the middle of a deploy: its job is taken up by the next
 * worker once BullMQ sees the lock lapse, and the preview converges with nothing doubled or leaked.
 * The webhook side runs in this process; the workers are real `vcluster-preview serve --role worker`
 * processes, on a Redis database of their own so the default queue name is this test's alone.
 */
describe('a worker killed mid-deploy', () => {
  let github: GitHubDouble;
  let web: RunningService;
  let env: Record<string, string>;
  let home: ReturnType<typeof isolatedHome>;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    home = isolatedHome(inject('hostKubeconfig'), `${OWNER}.${REPO}`);
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    const redis = new URL(inject('redisUrl'));
    redis.pathname = `/${3 + Math.floor(Math.random() * 12)}`;
    env = {
      ...(await serviceEnv({
        github,
        hostKubeconfig: inject('hostKubeconfig'),
        redisUrl: redis.toString(),
        webhookSecret: SECRET,
      })),
      VCLUSTER_PREVIEW_HOME: home.home,
      LOG_LEVEL: 'info',
    };
    web = await startService({ role: 'web', env, logger: pino({ level: 'silent' }), handleSignals: false });
  });

  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await web?.stop();
    await (web?.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    await home?.restore();
    await github?.stop();
  });

  const startWorker = async (label: string): Promise<ChildProcess> => {
    mkdirSync(home.home, { recursive: true });
    const log = createWriteStream(join(home.home, `worker-${label}.log`));
    // Each worker serves its probes and metrics on a port of its own, as each pod does.
    const worker = spawn(process.execPath, [CLI, 'serve', '--role', 'worker'], {
      env: { ...process.env, ...env, PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.pipe(log);
    worker.stderr?.pipe(log);
    workers.push(worker);
    return worker;
  };

  it('converges after another worker takes the job: one preview, one control plane, the URL reported', async () => {
    await seedExample(github, OWNER, REPO, HEAD);
    const spec = { owner: OWNER, repo: REPO, number: 21, headSha: HEAD };
    github.addPullRequest(spec);
    const first = await startWorker('first');
    const queue = web.queue!.queue;
    expect(
      (await postWebhook(web.webhookUrl!, 'pull_request', pullRequestEvent('opened', spec), SECRET)).status,
    ).toBeLessThan(300);

    // The worker reports its step checklist as job progress: kill it while the app is being deployed.
    await waitUntil(
      async () => {
        const [job] = await queue.getJobs(['active']);
        const steps = (job?.progress as { steps?: StickyStep[] } | undefined)?.steps ?? [];
        return steps.some((step) => step.name === 'Deploy' && step.status === 'running') || undefined;
      },
      { what: 'the first worker in the Deploy step', timeoutMs: 120_000, intervalMs: 50 },
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker('second');
    const comment = await waitUntil(
      async () =>
        github
          .comments(OWNER, REPO, 21)
          .find((c) => c.body.startsWith(STICKY_MARKER) && c.body.includes('https://pr-21-')),
      { what: 'the preview URL after the second worker took over', timeoutMs: 150_000, intervalMs: 500 },
    );
    expect(comment.body).toContain('Preview ready');
    expect(github.comments(OWNER, REPO, 21).filter((c) => c.body.startsWith(STICKY_MARKER))).toHaveLength(1);
    await waitUntil(async () => github.deployments(OWNER, REPO)[0]?.statuses.at(-1)?.state === 'success', {
      what: 'the deployment marked successful',
    });
    expect(github.deployments(OWNER, REPO)).toHaveLength(1);
    expect(await queue.getJobCounts('failed', 'waiting', 'active', 'delayed')).toEqual({
      failed: 0,
      waiting: 0,
      active: 0,
      delayed: 0,
    });

    const host = kubeClients(inject('hostKubeconfig'));
    const namespaces = await host.core.listNamespace({
      labelSelector: 'vcluster-preview.dev/pull-request=21',
    });
    const ours = namespaces.items.filter(
      (ns) => ns.metadata?.labels?.['vcluster-preview.dev/repo'] === `${OWNER}.${REPO}`,
    );
    expect(ours).toHaveLength(1);
    expect(await apiServersUnder(home.home)).toHaveLength(1);
    const pods = await host.core.listNamespacedPod({ namespace: ours[0]!.metadata!.name! });
    expect(pods.items.filter((pod) => pod.metadata?.name?.startsWith('hello-'))).toHaveLength(2);

    // Closing tears it down, also after the takeover.
    await postWebhook(web.webhookUrl!, 'pull_request', pullRequestEvent('closed', spec), SECRET);
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: ours[0]!.metadata!.name! })), {
      what: 'the preview namespace deleted',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    await waitUntil(async () => (await apiServersUnder(home.home)).length === 0 || undefined, {
      what: 'no control plane process left',
    });
  }, 360_000);
});
