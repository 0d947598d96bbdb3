import type * as core from '@actions/core';
import type { Inputs } from './inputs.ts';
import type { PreviewStatus } from './service-client.ts';

/**
 * The job summary (`core.summary`, GITHUB_STEP_SUMMARY): the preview's URL, state and commit, the
 * time each step of the deploy took, and when the kubeconfig's token expires (never the token).
 */

export interface SummaryFacts {
  inputs: Pick<Inputs, 'pullRequest' | 'action'>;
  status: PreviewStatus;
  /** When the kubeconfig written for later steps stops working. */
  kubeconfigExpiresAt?: string;
}

// Cells are HTML: the service's error text must not become markup.
const html = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STEP_STATUS = {
  done: '✓ done',
  running: '… running',
  failed: '✗ failed',
  pending: '· pending',
} as const;

export async function writeSummary(summary: typeof core.summary, facts: SummaryFacts): Promise<void> {
  // Outside a runner (or an old one) there is no summary file to write to.
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const { inputs, status } = facts;
  const rows: [string, string][] = [
    ['Pull request', `#${inputs.pullRequest}`],
    ['Action', inputs.action],
    ['State', status.state],
  ];
  if (status.url) rows.push(['URL', `<a href="${html(status.url)}">${html(status.url)}</a>`]);
  if (status.sha) rows.push(['Commit', `<code>${html(status.sha.slice(0, 7))}</code>`]);
  if (status.error) rows.push(['Error', html(status.error)]);
  if (status.hint) rows.push(['Hint', html(status.hint)]);
  if (facts.kubeconfigExpiresAt)
    rows.push(['Kubeconfig', `written; expires ${html(facts.kubeconfigExpiresAt)}`]);
  summary.addHeading('vcluster preview', 3).addTable([
    [
      { data: 'What', header: true },
      { data: 'Value', header: true },
    ],
    ...rows.map(([what, value]) => [html(what), value]),
  ]);
  const steps = status.steps ?? [];
  if (steps.length > 0) {
    summary.addHeading('Steps', 4).addTable([
      [
        { data: 'Step', header: true },
        { data: 'Status', header: true },
        { data: 'Time', header: true },
      ],
      ...steps.map((step) => [
        html(step.name),
        STEP_STATUS[step.status] ?? html(String(step.status)),
        step.durationMs !== undefined && step.status !== 'pending'
          ? `${(step.durationMs / 1000).toFixed(1)} s`
          : '–',
      ]),
    ]);
  }
  await summary.write();
}
