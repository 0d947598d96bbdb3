import { parseDuration, parseRepoConfig, REPO_CONFIG_PATH } from '../../preview/index.ts';
import { decideChecks } from '../checks/check-decision.ts';
import { WaitingForChecksError } from '../errors/waiting-for-checks-error.ts';
import { httpStatusOf, rateLimitOf } from '../github/http-error.ts';
import type { ConfigSource } from './app-source.ts';
import type { ReconcileRun } from './reconcile-run.ts';
import type { ReconcileOutcome } from './single-step.ts';

/**
 * `waitFor.checks` of the repo config: before a slot is taken or a virtual cluster made, the head
 * commit's check runs of those names must have succeeded. While they run the job is put back
 * (WaitingForChecksError) and the sticky comment names them; a failed check, or the timeout, ends
 * the job with the sticky comment failed and nothing deployed.
 */

export interface WaitForChecksDeps {
  /** When this commit was first seen as the pull request's head (epoch ms): `timeout` runs from it. */
  headFirstSeen(repo: string, pr: number, sha: string): Promise<number>;
  /** How soon a waiting job looks again (a webhook of a finished check brings it back sooner). */
  pollMs: number;
  now?: () => number;
}

// What each pull request was last told it waits for, so that a poll that finds nothing new does not
// edit the comment. Per process and bounded: forgetting costs one edit more.
const told = new Map<string, string>();
const TOLD_MAX = 10_000;

const checkWord = (names: string[]) => (names.length === 1 ? 'check' : 'checks');

/** Answers an outcome to end the job with, or undefined to go on with the bring-up; throws to wait. */
export async function waitForChecks(
  run: ReconcileRun,
  sha: string,
  source: Promise<ConfigSource>,
  deps: WaitForChecksDeps,
): Promise<ReconcileOutcome | undefined> {
  let waitFor: ReturnType<typeof parseRepoConfig>['waitFor'];
  try {
    waitFor = parseRepoConfig((await source).text).waitFor;
  } catch {
    // A config that cannot be read or parsed is the bring-up's to report, with every problem and line.
    return undefined;
  }
  if (!waitFor) return undefined;
  const { job, log, octokit } = run;
  const key = `${job.repo}#${job.pr}`;
  let runs: Awaited<ReturnType<typeof octokit.rest.checks.listForRef>>['data']['check_runs'];
  try {
    runs = await octokit.paginate(octokit.rest.checks.listForRef, {
      owner: run.owner,
      repo: run.repo,
      ref: sha,
      per_page: 100,
    });
  } catch (error) {
    // An installation from before waitFor has not granted the permission: no retry helps.
    if (httpStatusOf(error) !== 403 || rateLimitOf(error, Date.now()) !== undefined) throw error;
    await run.report(
      {
        state: 'failed',
        sha,
        error: {
          message: `this GitHub App may not read the check runs of ${run.job.repo}, so it cannot wait for ${waitFor.checks.join(', ')}`,
          hint: `An owner of the repository accepts the App's new "Checks: read" permission in its installation settings (then comment \`/vcluster redeploy\`), or remove waitFor from ${REPO_CONFIG_PATH}.`,
        },
      },
      { desired: job.desired.kind, sha, failed: 'checks' },
    );
    return { state: 'failed' };
  }
  const now = (deps.now ?? Date.now)();
  const seen = await deps.headFirstSeen(job.repo, job.pr, sha);
  const decision = decideChecks(waitFor.checks, runs, {
    waitedMs: now - seen,
    timeoutMs: parseDuration(waitFor.timeout),
  });
  if (decision.kind === 'waiting') {
    const checks = [...decision.pending, ...decision.missing];
    const picture = `${sha}:${checks.join('\n')}`;
    if (told.get(key) !== picture) {
      if (told.size >= TOLD_MAX) told.clear();
      told.set(key, picture);
      await run
        .report(
          { state: 'queued', checks, sha },
          { desired: job.desired.kind, sha, waitingForChecks: checks },
        )
        .catch((reportError) => log.warn({ err: reportError }, 'could not report the checks waited for'));
    }
    log.info({ pending: decision.pending, missing: decision.missing }, 'waiting for checks');
    throw new WaitingForChecksError(checks, deps.pollMs);
  }
  told.delete(key);
  if (decision.kind === 'ready') {
    log.info({ checks: waitFor.checks }, 'the checks waited for succeeded');
    return undefined;
  }
  const error =
    decision.kind === 'failed'
      ? {
          message: `check ${decision.name} failed (${decision.conclusion})${decision.detailsUrl ? ` — details: ${decision.detailsUrl}` : ''}`,
          hint: `Fix it and push a commit, or re-run the check: the preview is deployed once ${decision.name} succeeds.`,
          ...(decision.detailsUrl ? { logUrl: decision.detailsUrl } : {}),
        }
      : {
          message: [
            `${checkWord(waitFor.checks)} ${waitFor.checks.join(', ')} did not succeed within ${waitFor.timeout} of commit ${sha.slice(0, 7)}`,
            ...(decision.pending.length > 0 ? [`still running: ${decision.pending.join(', ')}`] : []),
            ...(decision.missing.length > 0 ? [`never started: ${decision.missing.join(', ')}`] : []),
          ].join('; '),
          hint: `Comment \`/vcluster redeploy\` once they have succeeded, or push a commit; check the names in waitFor.checks of ${REPO_CONFIG_PATH} against the Checks tab, or give a longer waitFor.timeout.`,
        };
  log.warn({ decision }, 'not deploying: the checks waited for did not succeed');
  await run.report(
    { state: 'failed', sha, error },
    {
      desired: job.desired.kind,
      sha,
      failed: decision.kind === 'failed' ? `check ${decision.name}` : 'checks',
    },
  );
  return { state: 'failed' };
}
