import * as core from '@actions/core';
import { type Inputs, readInputs } from './inputs.ts';
import { writeKubeconfigFile } from './kubeconfig-file.ts';
import { type PreviewStatus, ServiceClient } from './service-client.ts';
import { writeSummary } from './summary.ts';
import { waitForPreview } from './wait.ts';

/**
 * The Action: asks the vcluster-preview service for a desired state of the pull request's preview,
 * authenticated by the job's OIDC token, then (with `wait`) follows it until it is ready or failed;
 * with `kubeconfig`, writes a short-lived kubeconfig of the preview's virtual cluster to a file.
 */

/** What each action should end in; another final state (a newer request won) is only a warning. */
const EXPECTED: Record<Inputs['action'], string> = {
  up: 'ready',
  reset: 'ready',
  redeploy: 'ready',
  resume: 'ready',
  pause: 'paused',
  down: 'destroyed',
};

const TOKEN_REUSE_MS = 60_000;

/** The job's OIDC token for the service, asked again once a minute (tokens live a few minutes). */
function tokenSource(audience: string): () => Promise<string> {
  let cached: { token: string; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > TOKEN_REUSE_MS) {
      try {
        cached = { token: await core.getIDToken(audience), at: Date.now() };
      } catch (error) {
        throw new Error(
          `cannot get an OIDC token for audience ${audience} (${(error as Error).message}); the job needs \`permissions: id-token: write\``,
        );
      }
    }
    return cached.token;
  };
}

function setOutputs(status: Pick<PreviewStatus, 'state' | 'url' | 'sha' | 'namespace' | 'jobId'>): void {
  core.setOutput('state', status.state);
  if (status.url) core.setOutput('url', status.url);
  if (status.sha) core.setOutput('sha', status.sha);
  if (status.namespace) core.setOutput('namespace', status.namespace);
  if (status.jobId) core.setOutput('job-id', status.jobId);
}

/**
 * Fetches the preview's kubeconfig and writes it for later steps: the token is masked before
 * anything else happens with it, and only the file's path is an output.
 */
async function writeKubeconfig(client: ServiceClient, statusUrl: string, inputs: Inputs): Promise<string> {
  const answer = await client.kubeconfig(statusUrl);
  core.setSecret(answer.token);
  const path = writeKubeconfigFile({
    kubeconfig: answer.kubeconfig,
    pullRequest: inputs.pullRequest,
    runnerTemp: process.env.RUNNER_TEMP,
  });
  core.setOutput('kubeconfig-path', path);
  core.info(
    `Kubeconfig of the preview (service account ${answer.serviceAccount}, expires ${answer.expiresAt}) written to ${path}`,
  );
  return answer.expiresAt;
}

export async function run(): Promise<void> {
  try {
    const inputs = readInputs((name) => core.getInput(name), process.env);
    const client = new ServiceClient({ serviceUrl: inputs.serviceUrl, token: tokenSource(inputs.audience) });
    core.info(
      `Asking ${inputs.serviceUrl} to ${inputs.action} the preview of pull request #${inputs.pullRequest}`,
    );
    const names = Object.keys(inputs.variables);
    if (names.length > 0) core.info(`Setting variables ${names.join(', ')}`);
    const requested = await client.requestPreview({
      pullRequest: inputs.pullRequest,
      action: inputs.action,
      ...(names.length > 0 ? { variables: inputs.variables } : {}),
    });
    const { desired } = requested;
    if (!requested.jobId) {
      // Nothing was queued: the repo's policy skipped it, or a fork commit waits for approval.
      const state = desired.kind === 'await-approval' ? 'waiting-approval' : 'skipped';
      core.notice(
        desired.kind === 'await-approval'
          ? `Commit ${desired.sha?.slice(0, 7)} comes from a fork: a maintainer must comment \`/vcluster approve\` first.`
          : `No preview change: ${desired.reason ?? desired.kind}.`,
      );
      setOutputs({ state, ...(desired.sha ? { sha: desired.sha } : {}) });
      await writeSummary(core.summary, { inputs, status: { state } });
      if (inputs.kubeconfig) core.warning(`No kubeconfig: the preview is ${state}.`);
      return;
    }
    core.info(
      `Job ${requested.jobId} queued (${desired.kind}${desired.sha ? `@${desired.sha.slice(0, 7)}` : ''})`,
    );
    const status = inputs.wait
      ? await waitForPreview({
          client,
          statusUrl: requested.statusUrl,
          timeoutMs: inputs.timeoutMs,
          log: (line) => core.info(line),
          warn: (line) => core.warning(line),
        })
      : await client.status(requested.statusUrl);
    setOutputs({ ...status, jobId: status.jobId ?? requested.jobId });
    let kubeconfigExpiresAt: string | undefined;
    if (inputs.kubeconfig && status.state === 'ready') {
      kubeconfigExpiresAt = await writeKubeconfig(client, requested.statusUrl, inputs);
    } else if (inputs.kubeconfig && inputs.action !== 'down') {
      core.warning(`No kubeconfig: the preview is ${status.state}, not ready.`);
    }
    await writeSummary(core.summary, {
      inputs,
      status,
      ...(kubeconfigExpiresAt ? { kubeconfigExpiresAt } : {}),
    });
    if (status.state === 'failed') {
      core.setFailed(
        `The preview failed: ${status.error ?? 'no reason given'}${status.hint ? `\nHint: ${status.hint}` : ''}`,
      );
      return;
    }
    if (inputs.wait && status.state !== EXPECTED[inputs.action]) {
      core.warning(
        `The preview ended ${status.state}, not ${EXPECTED[inputs.action]}: a newer request may have won.`,
      );
    }
    core.info(status.url ? `Preview ${status.state}: ${status.url}` : `Preview ${status.state}`);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
