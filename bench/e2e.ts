import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { defaultReconciler } from '../app/default-reconciler.ts';
import type { PreviewJob } from '../app/queue/preview-job.ts';
import type { Reconcile } from '../app/queue/preview-worker.ts';
import { type RunningService, startService } from '../app/serve.ts';
import { loadServiceConfig } from '../app/service-config.ts';
import { isStickyComment, type StickyStep } from '../app/sticky-comment.ts';
import { type LocalRedis, startLocalRedis } from '../cli/local-redis.ts';
import {
  type Cluster,
  ensureBinaries,
  freePort,
  pidsMentioning,
  startCluster,
} from '../controlplane/index.ts';
import { type KubeClients, kubeClients } from '../kube/client.ts';
import { waitUntil } from '../kube/wait.ts';
import { localProvider } from '../preview/providers/local/provider.ts';
import { STEPS } from '../preview/steps.ts';
import { type GitHubDouble, startGitHubDouble } from '../test/support/github-double.ts';
import { openThroughIngress } from '../test/support/ingress.ts';
import { type PullRequestSpec, postWebhook, pullRequestEvent } from '../test/support/webhooks.ts';
import { median, writeSection } from './results.ts';

/**
 * The whole way, as a user sees it: a signed `pull_request.opened` webhook to the running service
 * (web + worker in one process, the real reconciler with the local provider), a real host cluster and
 * Redis, GitHub answered by the test double seeded with `examples/hello`, until the sticky comment
 * shows the preview URL; then `closed` until the comment says the preview is destroyed.
 */

const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'hello');
const OWNER = 'acme';
const REPO = 'hello';
const SHA = '1'.repeat(40);
/** Worker concurrency passed to startService (the PreviewWorker default is 2). */
const CONCURRENCY = 4;
const PIPELINE = [STEPS.config, STEPS.cluster, STEPS.deploy, STEPS.expose] as const;
const DESTROYED = '🗑️ Preview destroyed';

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exampleFiles(dir = EXAMPLE): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await exampleFiles(path)));
    else out.push(relative(EXAMPLE, path));
  }
  return out;
}

/** What the worker reported for one pull request's `up` job: when it started, and its step checklist. */
interface JobRecord {
  startedAt: number;
  attempts: number;
  /** The last progress that carried the steps (all done once the preview is ready), durations in ms. */
  steps?: StickyStep[];
}

/**
 * The reconcile as the service runs it, with the job's progress (what it hands to BullMQ's
 * `updateProgress`: the step checklist with exact durations) also kept here, per pull request.
 */
function recording(reconcile: Reconcile, records: Map<number, JobRecord>): Reconcile {
  return (job: PreviewJob, context) => {
    if (job.desired.kind !== 'up') return reconcile(job, context);
    const record: JobRecord = {
      startedAt: performance.now(),
      attempts: (records.get(job.pr)?.attempts ?? 0) + 1,
    };
    records.set(job.pr, record);
    return reconcile(job, {
      ...context,
      progress: async (progress) => {
        if (typeof progress === 'object' && progress !== null && 'steps' in progress) {
          record.steps = (progress as { steps: StickyStep[] }).steps;
        }
        await context.progress(progress);
      },
    });
  };
}

/** `| ✅ | Read config | 0.3s |` rows of the sticky comment's step table, for a cross-check. */
const commentSteps = (body: string): string =>
  [...body.matchAll(/^\| \S+ \| ([^|]+?) \| ([^|]*?) \|$/gm)]
    .filter((match) => match[1] !== 'Step')
    .map((match) => `${match[1]} ${match[2]}`)
    .join(', ');

interface Harness {
  github: GitHubDouble;
  host: KubeClients;
  service: RunningService;
  records: Map<number, JobRecord>;
  /** On a real node: where its ingress controller listens; the URL must answer with the commit. */
  ingressUrl?: string;
}

const spec = (number: number): PullRequestSpec => ({ owner: OWNER, repo: REPO, number, headSha: SHA });

const sticky = (github: GitHubDouble, pr: number) =>
  github.comments(OWNER, REPO, pr).find((comment) => isStickyComment(comment.body));

const hasUrl = (github: GitHubDouble, pr: number) =>
  new RegExp(`\\*\\*Preview:\\*\\* https?://pr-${pr}-`).test(sticky(github, pr)?.body ?? '');

/** The preview URL the sticky comment shows. */
const urlOf = (github: GitHubDouble, pr: number) =>
  /\*\*Preview:\*\* (https?:\/\/\S+?)(?:\s|$|\))/.exec(sticky(github, pr)?.body ?? '')?.[1];

/**
 * Requests other than GET since call number `from`, less installation token requests: what Probot's
 * throttling spaces ≥ 1 s apart.
 */
const writesSince = (github: GitHubDouble, from: number) =>
  github.calls
    .slice(from)
    .filter(
      (call) => call.method !== 'GET' && call.method !== 'HEAD' && !call.path.endsWith('/access_tokens'),
    ).length;

const isDestroyed = (github: GitHubDouble, pr: number) =>
  sticky(github, pr)?.body.includes(DESTROYED) === true;

async function post(h: Harness, action: 'opened' | 'closed', pr: number): Promise<void> {
  const response = await postWebhook(
    h.service.webhookUrl!,
    'pull_request',
    pullRequestEvent(action, spec(pr)),
    h.service.config.webhookSecret!,
  );
  if (response.status >= 300) {
    throw new Error(`webhook ${action} for #${pr} answered ${response.status}: ${response.body}`);
  }
}

interface SingleRun {
  pr: number;
  webhookMs: number;
  pickupMs: number;
  steps: Record<string, number>;
  urlMs: number;
  /** Real node: until the URL answered with the commit (from the ingress controller, real containers). */
  answerMs?: number;
  restMs: number;
  teardownMs: number;
  /** GitHub writes between posting `opened` and the URL showing. */
  writes: number;
}

async function singleRun(h: Harness, pr: number): Promise<SingleRun> {
  h.github.addPullRequest(spec(pr));
  const callsBefore = h.github.calls.length;
  const started = performance.now();
  await post(h, 'opened', pr);
  const webhookMs = performance.now() - started;
  await waitUntil(async () => hasUrl(h.github, pr), {
    what: `the sticky comment of #${pr} with the preview URL`,
    timeoutMs: 180_000,
    intervalMs: 25,
  });
  const urlMs = performance.now() - started;
  const writes = writesSince(h.github, callsBefore);
  let answerMs: number | undefined;
  if (h.ingressUrl) {
    const url = urlOf(h.github, pr)!;
    await waitUntil(
      async () => {
        const page = await openThroughIngress(url, h.ingressUrl!).catch(() => undefined);
        return page?.status === 200 && page.body.includes(SHA);
      },
      { what: `${url} to answer with the commit`, timeoutMs: 180_000, intervalMs: 25 },
    );
    answerMs = performance.now() - started;
  }
  const record = h.records.get(pr);
  if (!record?.steps) throw new Error(`no step progress recorded for #${pr}`);
  if (record.attempts > 1) console.log(`  #${pr}: the job ran ${record.attempts} times (retried)`);
  const steps = Object.fromEntries(record.steps.map((step) => [step.name, step.durationMs ?? 0]));
  const pickupMs = record.startedAt - started;
  const restMs = urlMs - pickupMs - PIPELINE.reduce((sum, name) => sum + (steps[name] ?? 0), 0);
  console.log(`  comment's step table: ${commentSteps(sticky(h.github, pr)!.body)}`);

  h.github.updatePullRequest(OWNER, REPO, pr, { state: 'closed' });
  const closing = performance.now();
  await post(h, 'closed', pr);
  await waitUntil(async () => isDestroyed(h.github, pr), {
    what: `the sticky comment of #${pr} to say destroyed`,
    timeoutMs: 180_000,
    intervalMs: 25,
  });
  const teardownMs = performance.now() - closing;
  await assertNoPreviewNamespace(h, pr);
  return {
    pr,
    webhookMs,
    pickupMs,
    steps,
    urlMs,
    ...(answerMs ? { answerMs } : {}),
    restMs,
    teardownMs,
    writes,
  };
}

async function assertNoPreviewNamespace(h: Harness, pr: number): Promise<void> {
  const left = await h.host.core.listNamespace({
    labelSelector: `vcluster-preview.dev/pull-request=${pr}`,
  });
  if (left.items.length > 0) throw new Error(`#${pr}: its host namespace is still there after destroyed`);
}

interface BurstRun {
  count: number;
  urlMs: Map<number, number>;
  allUrlsMs: number;
  clusterStep: number[];
  deployStep: number[];
  pickup: number[];
  allDestroyedMs: number;
  writes: number;
}

async function burstRun(h: Harness, prs: number[]): Promise<BurstRun> {
  for (const pr of prs) h.github.addPullRequest(spec(pr));
  const callsBefore = h.github.calls.length;
  const started = performance.now();
  await Promise.all(prs.map((pr) => post(h, 'opened', pr)));
  const urlMs = new Map<number, number>();
  await waitUntil(
    async () => {
      for (const pr of prs)
        if (!urlMs.has(pr) && hasUrl(h.github, pr)) urlMs.set(pr, performance.now() - started);
      return urlMs.size === prs.length;
    },
    { what: `all ${prs.length} sticky comments with a preview URL`, timeoutMs: 900_000, intervalMs: 50 },
  );
  const allUrlsMs = performance.now() - started;
  const writes = writesSince(h.github, callsBefore);
  const records = prs.map((pr) => h.records.get(pr));
  const retried = prs.filter((_, i) => (records[i]?.attempts ?? 0) > 1);
  if (retried.length > 0) console.log(`  retried jobs: ${retried.map((pr) => `#${pr}`).join(', ')}`);
  const stepOf = (record: JobRecord | undefined, name: string) =>
    record?.steps?.find((step) => step.name === name)?.durationMs ?? 0;

  for (const pr of prs) h.github.updatePullRequest(OWNER, REPO, pr, { state: 'closed' });
  const closing = performance.now();
  await Promise.all(prs.map((pr) => post(h, 'closed', pr)));
  await waitUntil(async () => prs.every((pr) => isDestroyed(h.github, pr)), {
    what: `all ${prs.length} sticky comments to say destroyed`,
    timeoutMs: 900_000,
    intervalMs: 50,
  });
  const allDestroyedMs = performance.now() - closing;
  for (const pr of prs) await assertNoPreviewNamespace(h, pr);
  return {
    count: prs.length,
    urlMs,
    allUrlsMs,
    clusterStep: records.map((record) => stepOf(record, STEPS.cluster)),
    deployStep: records.map((record) => stepOf(record, STEPS.deploy)),
    pickup: records.map((record) => (record?.startedAt ?? started) - started),
    allDestroyedMs,
    writes,
  };
}

/** Runs `work` but gives up waiting after `ms` (a stop that hangs must not keep the rest from stopping). */
async function within(what: string, ms: number, work: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
      }),
    ]);
  } catch (error) {
    console.error(`cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One pull request (`runs` times), then `burst` opened at once (none when 0), on a host of its own:
 * kwok nodes only, or a real node whose URLs must answer.
 */
async function measure(
  runs: number,
  burst: number,
  realNode: boolean,
): Promise<{ singles: SingleRun[]; many?: BurstRun; manyTwoWorkers?: BurstRun }> {
  const previousHome = process.env.VCLUSTER_PREVIEW_HOME;
  const home = await mkdtemp(join(tmpdir(), 'vcp-bench-e2e-'));
  process.env.VCLUSTER_PREVIEW_HOME = home;
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  let host: Cluster | undefined;
  let redis: LocalRedis | undefined;
  let github: GitHubDouble | undefined;
  let service: RunningService | undefined;
  let secondWorker: RunningService | undefined;
  const singles: SingleRun[] = [];
  let many: BurstRun | undefined;
  let manyTwoWorkers: BurstRun | undefined;
  try {
    const binaries = await ensureBinaries((m) => console.log(m));
    [host, redis] = await Promise.all([
      startCluster({
        mode: 'host',
        name: 'bench-e2e-host',
        nodes: realNode ? 0 : 4,
        binaries,
        ...(realNode ? { realNode: { ingressListen: `127.0.0.1:${await freePort()}` } } : {}),
      }),
      startLocalRedis(),
    ]);
    const kubeconfigPath = join(home, 'host.kubeconfig');
    writeFileSync(kubeconfigPath, host.kubeconfig, { mode: 0o600 });

    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    for (const path of await exampleFiles()) {
      github.setFile(OWNER, REPO, SHA, path, await readFile(join(EXAMPLE, path), 'utf8'));
    }
    const env = {
      APP_ID: '1',
      PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      WEBHOOK_SECRET: `whsec-${randomBytes(8).toString('hex')}`,
      GHE_HOST: github.host,
      GHE_PROTOCOL: 'http',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      KUBECONFIG: kubeconfigPath,
      BASE_DOMAIN: realNode ? 'preview.localhost' : 'preview.test',
      ...(host.realNode
        ? { PREVIEW_URL_SCHEME: 'http', PREVIEW_URL_PORT: new URL(host.realNode.ingressUrl).port }
        : {}),
      VCLUSTER_PROVIDER: 'local',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    };
    const records = new Map<number, JobRecord>();
    const reconcile = await defaultReconciler(loadServiceConfig(env, 'all'), logger);
    const queueName = `bench-e2e-${randomBytes(4).toString('hex')}`;
    service = await startService({
      role: 'all',
      env,
      reconcile: recording(reconcile, records),
      queueName,
      logger,
      concurrency: CONCURRENCY,
      handleSignals: false,
    });
    const h: Harness = {
      github,
      host: kubeClients(host.kubeconfig),
      service,
      records,
      ...(host.realNode ? { ingressUrl: host.realNode.ingressUrl } : {}),
    };

    for (let i = 0; i < runs; i++) {
      const r = await singleRun(h, i + 1);
      singles.push(r);
      console.log(
        `${realNode ? 'real node ' : ''}#${r.pr}: URL in ${seconds(r.urlMs)} s${r.answerMs ? `, answering in ${seconds(r.answerMs)} s` : ''} (webhook answered ${seconds(r.webhookMs)} s, job started ${seconds(r.pickupMs)} s, ${PIPELINE.map((name) => `${name} ${seconds(r.steps[name] ?? 0)}`).join(', ')}, rest ${seconds(r.restMs)} s; ${r.writes} GitHub writes); destroyed ${seconds(r.teardownMs)} s after close`,
      );
    }

    if (burst > 0) {
      const prs = Array.from({ length: burst }, (_, i) => 101 + i);
      many = await burstRun(h, prs);
      const sorted = [...many.urlMs.values()].sort((a, b) => a - b);
      console.log(
        `${burst} at once: URLs at ${sorted.map((ms) => seconds(ms)).join(', ')} s; all in ${seconds(many.allUrlsMs)} s (${many.writes} GitHub writes); all destroyed ${seconds(many.allDestroyedMs)} s after closing`,
      );
      // A second worker process on the same queue and Redis, as a second worker pod would be.
      secondWorker = await startService({
        role: 'worker',
        env: { ...env, PORT: String(await freePort()) },
        reconcile: recording(await defaultReconciler(loadServiceConfig(env, 'worker'), logger), records),
        queueName,
        logger,
        concurrency: CONCURRENCY,
        handleSignals: false,
      });
      manyTwoWorkers = await burstRun(
        h,
        Array.from({ length: burst }, (_, i) => 201 + i),
      );
      console.log(
        `${burst} at once, two workers: all in ${seconds(manyTwoWorkers.allUrlsMs)} s; all destroyed ${seconds(manyTwoWorkers.allDestroyedMs)} s after closing`,
      );
    }
  } finally {
    // The service first (no job may run while its virtual clusters are deleted), then what is left.
    if (secondWorker) await within('stopping the second worker', 300_000, () => secondWorker!.stop());
    if (service) await within('stopping the service', 300_000, () => service!.stop());
    if (host) {
      const provider = localProvider({ hostKubeconfig: host.kubeconfig });
      await within('deleting leftover virtual clusters', 300_000, async () => {
        const leftovers = await provider.list();
        if (leftovers.length > 0) {
          console.error(`cleanup: deleting ${leftovers.length} leftover virtual cluster(s)`);
        }
        await Promise.all(leftovers.map((info) => provider.delete(info)));
      });
    }
    await Promise.all([
      github && within('stopping the GitHub double', 30_000, () => github!.stop()),
      redis && within('stopping Redis', 30_000, () => redis!.stop()),
      host && within('stopping the host cluster', 120_000, () => host!.stop()),
    ]);
    // A virtual cluster runner that outlived all that (its state lives under home): end it by pid.
    for (const pid of pidsMentioning(home)) {
      console.error(`cleanup: ending leftover process ${pid}`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(100);
    await rm(home, { recursive: true, force: true }).catch(() => {});
    if (previousHome === undefined) delete process.env.VCLUSTER_PREVIEW_HOME;
    else process.env.VCLUSTER_PREVIEW_HOME = previousHome;
  }
  return { singles, ...(many ? { many } : {}), ...(manyTwoWorkers ? { manyTwoWorkers } : {}) };
}

/** The rows of one pull request's runs and their medians. */
function singlesTable(runs: SingleRun[]): string[] {
  const real = runs.some((r) => r.answerMs !== undefined);
  const row = (label: string, r: Omit<SingleRun, 'pr'>) =>
    `| ${label} | ${seconds(r.webhookMs)} | ${seconds(r.pickupMs)} | ${PIPELINE.map((name) => seconds(r.steps[name] ?? 0)).join(' | ')} | ${seconds(r.restMs)} | ${r.writes} | **${seconds(r.urlMs)}** |${real ? ` **${seconds(r.answerMs ?? 0)}** |` : ''} ${seconds(r.teardownMs)} |`;
  const medians: Omit<SingleRun, 'pr'> = {
    webhookMs: median(runs.map((r) => r.webhookMs)),
    pickupMs: median(runs.map((r) => r.pickupMs)),
    steps: Object.fromEntries(PIPELINE.map((name) => [name, median(runs.map((r) => r.steps[name] ?? 0))])),
    restMs: median(runs.map((r) => r.restMs)),
    urlMs: median(runs.map((r) => r.urlMs)),
    ...(real ? { answerMs: median(runs.map((r) => r.answerMs ?? 0)) } : {}),
    teardownMs: median(runs.map((r) => r.teardownMs)),
    writes: median(runs.map((r) => r.writes)),
  };
  return [
    `| run | webhook answered s | job started s | ${PIPELINE.map((name) => `${name} s`).join(' | ')} | rest s | GitHub writes | opened → URL s |${real ? ' opened → URL answers s |' : ''} closed → destroyed s |`,
    `|---|---|---|${PIPELINE.map(() => '---').join('|')}|---|---|---|${real ? '---|' : ''}---|`,
    ...[...runs].sort((a, b) => a.pr - b.pr).map((r) => row(`#${r.pr}`, r)),
    row('**median**', medians),
  ];
}

/** One row of the burst table. */
function burstRow(workers: string, run: BurstRun): string {
  const urls = [...run.urlMs.values()];
  const spread = (values: number[]) => `${seconds(median(values))} / ${seconds(Math.max(...values))}`;
  return `| ${workers} | ${run.count} | ${seconds(Math.min(...urls))} | ${seconds(median(urls))} | **${seconds(run.allUrlsMs)}** | ${spread(run.pickup)} | ${spread(run.clusterStep)} | ${spread(run.deployStep)} | ${run.writes} | ${seconds(run.allDestroyedMs)} |`;
}

/** The kwok run and the real-node run, in one bench: the figures go to bench/RESULTS.md. */
export async function benchE2e(
  runs = Number(process.env.BENCH_RUNS ?? 3),
  burst = Number(process.env.BENCH_E2E_BURST ?? 10),
): Promise<void> {
  const { singles: kwokSingles, many, manyTwoWorkers } = await measure(runs, burst, false);
  const { singles: realSingles } = await measure(runs, 0, true);
  writeSection(
    'e2e',
    [
      'The whole service in one process (`startService` role `all`, the real reconciler, local provider) against a host cluster and Redis of its own (kwok run: 4 kwok nodes; real-node run: one real node, kubelet + containerd, whose ingress controller must answer the URL with the commit); GitHub is the test double seeded with `examples/hello`, webhooks are signed deliveries. Time runs from posting `pull_request.opened` until the sticky comment shows the preview URL (polled every 25 ms), and from posting `closed` until it says destroyed (host namespace gone).',
      `Step times are the job's progress (the step checklist the worker hands to BullMQ, exact ms; the sticky comment shows the same, rounded). "job started": webhook posted → reconcile called; "rest": what is outside the steps (creating the GitHub Deployment and its statuses, the final comment edit, polling). Step progress edits of the comment run in the background (newest state wins), so a step does not wait on GitHub; the final edit and the Deployment status are awaited.`,
      "GitHub writes: requests other than GET (installation tokens left out) the double received until the (last) URL showed. Probot's Octokit throttling (`@octokit/plugin-throttling`, one limiter for the whole process, both Probot instances) starts writes at least 1 s apart, and comment creations 3 s apart; the progress edits that wait their turn collapse into the newest. Target: under 15 s for one pull request.",
      '',
      `### One pull request, kwok nodes (${kwokSingles.length} runs, each a new PR, closed and torn down after)`,
      '',
      ...singlesTable(kwokSingles),
      '',
      `### One pull request, real node (${realSingles.length} runs): "URL answers" is until the page served by real containers through the ingress controller shows the commit`,
      '',
      ...singlesTable(realSingles),
      '',
      `### ${many!.count} pull requests opened at once (worker concurrency ${CONCURRENCY}, passed to startService; the PreviewWorker default is 2)`,
      '',
      '| worker processes | PRs | first URL s | median URL s | all URLs s | job started s (median / max) | Virtual cluster step s (median / max) | Deploy step s (median / max) | GitHub writes | closed → all destroyed s |',
      '|---|---|---|---|---|---|---|---|---|---|',
      burstRow('1', many!),
      burstRow('2 (a second `serve --role worker` on the same queue)', manyTwoWorkers!),
      '',
      `Two workers drained the burst in ${(manyTwoWorkers!.allUrlsMs / many!.allUrlsMs).toFixed(2)}× the time of one (same run; each worker runs ${CONCURRENCY} jobs at once, never two of one pull request). A second worker takes every job at once (job started), so where the ratio stays near 1 the machine is the limit: the Virtual cluster step of each preview grows with the number made at once (local virtual clusters are processes of this machine; in a cluster they are pods spread over nodes), and each process paces its GitHub writes ≥ 1 s apart.`,
    ].join('\n'),
  );
}
