import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSummary } from './summary.ts';

const previous = process.env.GITHUB_STEP_SUMMARY;
afterEach(() => {
  if (previous === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = previous;
});

// core.summary keeps the file it first wrote to: one file for every test, emptied before each.
const SUMMARY_FILE = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');
const summaryFile = () => {
  writeFileSync(SUMMARY_FILE, '');
  process.env.GITHUB_STEP_SUMMARY = SUMMARY_FILE;
  return SUMMARY_FILE;
};

describe('writeSummary', () => {
  it('shows the URL, state, commit, each step with its time, and when the kubeconfig expires', async () => {
    const path = summaryFile();
    await writeSummary(core.summary, {
      inputs: { pullRequest: 12, action: 'up' },
      status: {
        state: 'ready',
        url: 'https://pr-12.preview.example.com/',
        sha: 'abcdef0123456789abcdef0123456789abcdef01',
        steps: [
          { name: 'Virtual cluster', status: 'done', durationMs: 8_400 },
          { name: 'Deploy', status: 'done', durationMs: 1_250 },
          { name: 'Expose', status: 'pending' },
        ],
      },
      kubeconfigExpiresAt: '2026-12-06T22:00:00.000Z',
    });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<h3>vcluster preview</h3>');
    expect(html).toContain('<tr><td>State</td><td>ready</td></tr>');
    expect(html).toContain(
      '<td><a href="https://pr-12.preview.example.com/">https://pr-12.preview.example.com/</a></td>',
    );
    expect(html).toContain('<td><code>abcdef0</code></td>');
    expect(html).toContain('<tr><td>Virtual cluster</td><td>✓ done</td><td>8.4 s</td></tr>');
    expect(html).toContain('<tr><td>Deploy</td><td>✓ done</td><td>1.3 s</td></tr>');
    expect(html).toContain('<tr><td>Expose</td><td>· pending</td><td>–</td></tr>');
    expect(html).toContain('written; expires 2026-12-06T22:00:00.000Z');
  });

  it("escapes the service's words, and leaves out what a status does not have", async () => {
    const path = summaryFile();
    await writeSummary(core.summary, {
      inputs: { pullRequest: 3, action: 'reset' },
      status: { state: 'failed', error: 'manifest <script> is bad', hint: 'fix & push' },
    });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<td>manifest &lt;script&gt; is bad</td>');
    expect(html).toContain('<td>fix &amp; push</td>');
    expect(html).not.toMatch(/URL|Commit|Steps|Kubeconfig/);
  });
});
