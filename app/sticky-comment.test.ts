import { describe, expect, it } from 'vitest';
import { helpText } from './commands.ts';
import {
  formatDuration,
  isStickyComment,
  ordinal,
  type PreviewState,
  renderStickyComment,
  STICKY_MARKER,
  type StickyCommentState,
} from './sticky-comment.ts';

const sha = '0123456789abcdef0123456789abcdef01234567';

const ready: StickyCommentState = {
  state: 'ready',
  url: 'https://pr-12-shop.preview.example.com',
  sha,
  steps: [
    { name: 'Create virtual cluster', status: 'done', durationMs: 1_234 },
    { name: 'Deploy app', status: 'done', durationMs: 63_000 },
    { name: 'Wait for rollout', status: 'done', durationMs: 400 },
  ],
  connect: { name: 'pr-12-acme--shop', namespace: 'preview-pr-12-acme--shop' },
};

describe('formatDuration', () => {
  it.each([
    [0, '0.0s'],
    [40, '0.0s'],
    [400, '0.4s'],
    [1_234, '1.2s'],
    [9_940, '9.9s'],
    [9_960, '10s'],
    [12_400, '12s'],
    [59_600, '1m 0s'],
    [63_000, '1m 3s'],
    [3_599_000, '59m 59s'],
    [3_600_000, '1h 0m'],
    [7_500_000, '2h 5m'],
    [-5, '0.0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('isStickyComment', () => {
  it.each([
    [`${STICKY_MARKER}\n## 🚀 Preview ready`, true],
    [`  ${STICKY_MARKER}  \r\nbody`, true],
    [renderStickyComment(ready), true],
    ['## 🚀 Preview ready', false],
    [`> ${STICKY_MARKER}\n> quoted`, false],
    [`hello\n${STICKY_MARKER}`, false],
    ['', false],
  ])('%j → %s', (body, expected) => {
    expect(isStickyComment(body)).toBe(expected);
  });
});

describe('renderStickyComment', () => {
  it.each<[PreviewState, Partial<StickyCommentState>, string]>([
    ['ready', {}, '## 🚀 Preview ready'],
    ['deploying', {}, '## ⏳ Deploying the preview'],
    ['failed', {}, '## ❌ Preview failed'],
    ['paused', {}, '## 💤 Preview paused'],
    ['destroyed', {}, '## 🗑️ Preview destroyed'],
    ['waiting-approval', {}, '## ⏸️ Waiting for approval'],
    ['queued', { queuePosition: 3 }, '## 🕒 Waiting for a preview slot: 3rd in line'],
    [
      'queued',
      { queuePosition: 1, reason: 'all 2 preview slots are in use' },
      '## 🕒 Waiting for a preview slot: 1st in line',
    ],
    ['queued', {}, '## 🕒 Queued'],
    ['queued', { checks: ['build'] }, '## 🕒 Waiting for check build'],
    ['queued', { checks: ['build', 'test (ubuntu)'] }, '## 🕒 Waiting for checks build, test (ubuntu)'],
  ])('puts the marker first and the %s headline second', (state, extra, line) => {
    const lines = renderStickyComment({ state, ...extra }).split('\n');
    expect(lines[0]).toBe(STICKY_MARKER);
    expect(lines[1]).toBe(line);
  });

  it.each<[PreviewState, string]>([
    ['waiting-approval', '`/vcluster approve`'],
    ['paused', '`/vcluster resume`'],
    ['queued', 'slots are taken'],
  ])('tells what to do while %s', (state, text) => {
    expect(renderStickyComment({ state })).toContain(text);
  });

  it.each([
    [['build'], 'The preview is deployed once this check succeeds on the commit'],
    [['build', 'test'], 'The preview is deployed once these checks succeed on the commit'],
  ])('says what a preview waiting for checks %j waits for, and where that is set', (checks, text) => {
    const body = renderStickyComment({ state: 'queued', checks, sha });
    expect(body).toContain(`${text} (\`waitFor\` in \`.github/vcluster-preview.yml\`).`);
    expect(body).toContain('**Commit:** 0123456');
    expect(body).not.toContain('slots are taken');
  });

  it('says in words which place in line a waiting pull request has', () => {
    const places = [1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23, 101, 111, 112];
    expect(places.map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '10th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
      '101st',
      '111th',
      '112th',
    ]);
  });

  it('says what holds a queued preview back, as a sentence, instead of the generic text', () => {
    const body = renderStickyComment({
      state: 'queued',
      queuePosition: 2,
      sha,
      reason: 'all 10 preview slots are in use; this one starts when another pull request is closed',
    });
    expect(body).toContain(
      '\n\nAll 10 preview slots are in use; this one starts when another pull request is closed.\n\n',
    );
    expect(body).not.toContain('slots are taken');
    expect(body).not.toContain('**Why:**');
    expect(body).toContain('**Commit:** 0123456');
  });

  it('says why the sweeper paused or deleted a preview', () => {
    const paused = renderStickyComment({ state: 'paused', reason: 'idle for 1h: paused' });
    expect(paused).toContain(
      '## 💤 Preview paused\n\n**Why:** idle for 1h: paused\n\nComment `/vcluster resume`',
    );
    expect(renderStickyComment({ state: 'destroyed', reason: 'past its ttl of 7d' })).toContain(
      '**Why:** past its ttl of 7d',
    );
    expect(renderStickyComment({ state: 'destroyed' })).not.toContain('**Why:**');
  });

  it('says when a preview is kept from sleep and ttl, and by whom, without pinging them', () => {
    expect(renderStickyComment({ state: 'ready', url: 'https://x.test', keptBy: 'octocat' })).toContain(
      '**Kept** by `@octocat`: it does not sleep or expire while the pull request is open (`/vcluster keep off` lets it).',
    );
    expect(renderStickyComment({ state: 'paused', keptBy: 'label preview:keep' })).toContain(
      '**Kept** by the label `preview:keep`:',
    );
    expect(renderStickyComment({ state: 'destroyed', keptBy: 'octocat' })).not.toContain('**Kept**');
    expect(renderStickyComment({ state: 'ready' })).not.toContain('**Kept**');
  });

  it('shows the URL, the short commit, the steps with timings, and how to connect', () => {
    const body = renderStickyComment(ready);
    expect(body).toContain('**Preview:** https://pr-12-shop.preview.example.com');
    expect(body).toContain('**Commit:** 0123456');
    expect(body).not.toContain(sha);
    expect(body).toContain('| ✅ | Create virtual cluster | 1.2s |');
    expect(body).toContain('| ✅ | Deploy app | 1m 3s |');
    expect(body).toContain('| ✅ | Wait for rollout | 0.4s |');
    expect(body).toContain(
      '```sh\nvcluster-preview connect pr-12-acme--shop -n preview-pr-12-acme--shop\n```',
    );
    expect(body).not.toContain('What went wrong');
  });

  it('lists the commands from the help text, folded away', () => {
    const body = renderStickyComment(ready);
    expect(body).toContain(`<details><summary>Commands</summary>\n\n${helpText()}\n\n</details>`);
  });

  it('marks each step by its status, with no time for steps not started', () => {
    const body = renderStickyComment({
      state: 'deploying',
      steps: [
        { name: 'Create virtual cluster', status: 'done', durationMs: 2_000 },
        { name: 'Deploy app', status: 'running', durationMs: 700 },
        { name: 'Wait for rollout', status: 'pending' },
      ],
    });
    expect(body).toContain('| | Step | Time |\n|---|---|---|\n');
    expect(body).toContain('| ✅ | Create virtual cluster | 2.0s |');
    expect(body).toContain('| ⏳ | Deploy app | 0.7s |');
    expect(body).toContain('| ⬜ | Wait for rollout |  |');
  });

  it('keeps a step name with a pipe or a newline inside its cell', () => {
    const body = renderStickyComment({ state: 'deploying', steps: [{ name: 'a|b\nc', status: 'pending' }] });
    expect(body).toContain('| ⬜ | a\\|b c |  |');
  });

  it('shows the error in a fence, with what to do', () => {
    const body = renderStickyComment({
      ...ready,
      state: 'failed',
      steps: [{ name: 'Deploy app', status: 'failed', durationMs: 3_000 }],
      error: {
        message: 'Deployment web: ImagePullBackOff\nevents: Failed to pull image "shop:abc"',
        hint: 'Check that the image exists and is public.',
        logUrl: 'https://ci.example.com/log/1',
      },
    });
    expect(body).toContain('| ❌ | Deploy app | 3.0s |');
    expect(body).toContain(
      '### What went wrong\n\n```\nDeployment web: ImagePullBackOff\nevents: Failed to pull image "shop:abc"\n```',
    );
    expect(body).toContain('**What to do:** Check that the image exists and is public.');
    expect(body).toContain('Full log: https://ci.example.com/log/1');
    // The virtual cluster is still there to look into.
    expect(body).toContain('vcluster-preview connect pr-12-acme--shop');
  });

  it('says what to do on failure when the caller has no specific advice', () => {
    const body = renderStickyComment({ state: 'failed', error: { message: 'boom' } });
    expect(body).toContain(
      '**What to do:** Fix the cause and push a commit, or comment `/vcluster redeploy`',
    );
  });

  it('keeps only the first 60 lines of a long error and says how many are left out', () => {
    const message = Array.from({ length: 100 }, (_, index) => `line ${index + 1}`).join('\n');
    const body = renderStickyComment({ state: 'failed', error: { message } });
    expect(body).toContain('line 60\n… (40 more lines)\n```');
    expect(body).not.toContain('line 61');
  });

  it('cuts one enormous line', () => {
    const body = renderStickyComment({ state: 'failed', error: { message: 'x'.repeat(100_000) } });
    expect(body.length).toBeLessThan(12_000);
    expect(body).toContain('… (cut at 8000 characters)');
  });

  it('uses a fence the error text cannot close', () => {
    const body = renderStickyComment({
      state: 'failed',
      error: { message: 'a\n```\n# not a heading\n````' },
    });
    expect(body).toContain('`````\na\n```\n# not a heading\n````\n`````');
  });

  it('leaves out the URL and connect once destroyed, and the error unless failed', () => {
    const body = renderStickyComment({ ...ready, state: 'destroyed', error: { message: 'old failure' } });
    expect(body).not.toContain('**Preview:**');
    expect(body).not.toContain('vcluster-preview connect');
    expect(body).not.toContain('old failure');
    expect(body).toContain('**Commit:** 0123456');
  });

  it.each<[string, StickyCommentState, string[], string[]]>([
    [
      'a ready preview, after the steps',
      {
        ...ready,
        notes: ['host Secrets db-creds, shared were withheld: this pull request comes from a fork'],
      },
      ['> [!NOTE]\n> Host Secrets db-creds, shared were withheld: this pull request comes from a fork.'],
      [],
    ],
    [
      'two notes, one a sentence already',
      { state: 'deploying', notes: ['one.', 'two\nlines'] },
      ['> [!NOTE]\n> One.\n\n> [!NOTE]\n> Two lines.'],
      [],
    ],
    ['no notes', { ...ready, notes: [] }, [], ['[!NOTE]']],
    ['a destroyed preview', { state: 'destroyed', notes: ['withheld'] }, [], ['withheld']],
  ])('shows notes for %s', (_name, state, present, absent) => {
    const body = renderStickyComment(state);
    for (const text of present) expect(body).toContain(text);
    for (const text of absent) expect(body).not.toContain(text);
  });

  it('puts notes between the steps and the failure', () => {
    const body = renderStickyComment({
      ...ready,
      state: 'failed',
      notes: ['a note'],
      error: { message: 'boom' },
    });
    expect(body.indexOf('| Step |')).toBeLessThan(body.indexOf('A note.'));
    expect(body.indexOf('A note.')).toBeLessThan(body.indexOf('### What went wrong'));
  });

  it('shows when it was updated, when told', () => {
    expect(renderStickyComment({ state: 'paused', updatedAt: '2025-01-02T03:04:05Z' })).toContain(
      '<sub>Updated 2025-01-02T03:04:05Z</sub>',
    );
    expect(renderStickyComment({ state: 'paused' })).not.toContain('Updated');
  });
});
