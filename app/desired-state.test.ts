import { describe, expect, it } from 'vitest';
import type { Command } from './commands.ts';
import {
  type DesiredState,
  type DesiredStateContext,
  desiredStateFor,
  jobIdFor,
  MAX_PREVIEW_NAME,
  type PreviewEvent,
  type PreviewPolicy,
  previewName,
} from './desired-state.ts';

const head = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const defaults: PreviewPolicy = { drafts: false, labels: [], forks: 'approve' };

const pr = (
  action: string,
  extra: Partial<Extract<PreviewEvent, { type: 'pull_request' }>> = {},
): PreviewEvent => ({
  type: 'pull_request',
  action,
  draft: false,
  labels: [],
  headSha: head,
  merged: false,
  isFork: false,
  ...extra,
});

const command = (
  kind: Command['kind'],
  extra: Partial<Extract<PreviewEvent, { type: 'command' }>> = {},
  args: string[] = [],
): PreviewEvent => ({
  type: 'command',
  command: kind === 'unknown' ? { kind, text: 'nuke' } : { kind, args },
  state: 'open',
  draft: false,
  labels: [],
  headSha: head,
  isFork: false,
  ...extra,
});

const skipped = { kind: 'skip', reason: expect.any(String) };

describe('desiredStateFor a pull_request event', () => {
  it.each<[string, PreviewEvent, Partial<PreviewPolicy>, string | undefined, DesiredState | typeof skipped]>([
    ['opened', pr('opened'), {}, undefined, { kind: 'up', sha: head }],
    ['reopened', pr('reopened'), {}, undefined, { kind: 'up', sha: head }],
    ['synchronize', pr('synchronize'), {}, undefined, { kind: 'up', sha: head }],
    ['ready_for_review', pr('ready_for_review'), {}, undefined, { kind: 'up', sha: head }],
    ['closed', pr('closed'), {}, undefined, { kind: 'down' }],
    ['merged', pr('closed', { merged: true }), {}, undefined, { kind: 'down' }],
    ['closed fork, even unapproved', pr('closed', { isFork: true }), {}, undefined, { kind: 'down' }],
    ['edited', pr('edited'), {}, undefined, skipped],
    ['assigned', pr('assigned'), {}, undefined, skipped],
    // Drafts
    ['a draft opened', pr('opened', { draft: true }), {}, undefined, skipped],
    [
      'a draft opened, drafts allowed',
      pr('opened', { draft: true }),
      { drafts: true },
      undefined,
      { kind: 'up', sha: head },
    ],
    ['converted to draft', pr('converted_to_draft', { draft: true }), {}, undefined, { kind: 'down' }],
    [
      'converted to draft, drafts allowed',
      pr('converted_to_draft', { draft: true }),
      { drafts: true },
      undefined,
      skipped,
    ],
    // Labels
    [
      'opened without the label',
      pr('opened', { labels: ['bug'] }),
      { labels: ['preview'] },
      undefined,
      skipped,
    ],
    [
      'opened with the label',
      pr('opened', { labels: ['bug', 'Preview'] }),
      { labels: ['preview'] },
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'labeled with the label',
      pr('labeled', { labels: ['preview'], label: 'preview' }),
      { labels: ['preview'] },
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'labeled with another label',
      pr('labeled', { labels: ['preview', 'bug'], label: 'bug' }),
      { labels: ['preview'] },
      undefined,
      skipped,
    ],
    [
      'labeled, no label gate',
      pr('labeled', { labels: ['preview'], label: 'preview' }),
      {},
      undefined,
      skipped,
    ],
    [
      'labeled draft',
      pr('labeled', { draft: true, labels: ['preview'], label: 'preview' }),
      { labels: ['preview'] },
      undefined,
      skipped,
    ],
    [
      'unlabeled the last gate',
      pr('unlabeled', { labels: ['bug'], label: 'preview' }),
      { labels: ['preview', 'deploy'] },
      undefined,
      { kind: 'down' },
    ],
    [
      'unlabeled one of two gates',
      pr('unlabeled', { labels: ['deploy'], label: 'preview' }),
      { labels: ['preview', 'deploy'] },
      undefined,
      skipped,
    ],
    [
      'unlabeled another label',
      pr('unlabeled', { labels: ['preview'], label: 'bug' }),
      { labels: ['preview'] },
      undefined,
      skipped,
    ],
    // Forks
    ['a fork', pr('opened', { isFork: true }), {}, undefined, { kind: 'await-approval', sha: head }],
    ['a fork approved at its head', pr('synchronize', { isFork: true }), {}, head, { kind: 'up', sha: head }],
    [
      'a fork pushed after approval',
      pr('synchronize', { isFork: true }),
      {},
      'f'.repeat(40),
      { kind: 'await-approval', sha: head },
    ],
    [
      'a fork, forks: always',
      pr('opened', { isFork: true }),
      { forks: 'always' },
      undefined,
      { kind: 'up', sha: head },
    ],
    ['a fork, forks: never', pr('opened', { isFork: true }), { forks: 'never' }, head, skipped],
    ['a draft fork', pr('opened', { isFork: true, draft: true }), {}, undefined, skipped],
  ])('%s', (_name, event, policy, approvedSha, expected) => {
    const context: DesiredStateContext = { config: { ...defaults, ...policy }, approvedSha };
    expect(desiredStateFor(event, context)).toEqual(expected);
  });

  it('says why it skips', () => {
    const context = { config: { ...defaults, labels: ['preview', 'deploy'] } };
    expect(desiredStateFor(pr('opened', { draft: true }), { config: defaults })).toEqual({
      kind: 'skip',
      reason: 'draft pull requests get no preview (set drafts: true to change that)',
    });
    expect(desiredStateFor(pr('opened'), context)).toEqual({
      kind: 'skip',
      reason: 'only pull requests labelled preview or deploy get a preview',
    });
  });
});

describe('desiredStateFor a command', () => {
  it.each<[string, PreviewEvent, Partial<PreviewPolicy>, string | undefined, DesiredState | typeof skipped]>([
    ['reset', command('reset'), {}, undefined, { kind: 'reset', sha: head }],
    ['redeploy', command('redeploy'), {}, undefined, { kind: 'redeploy', sha: head }],
    ['destroy', command('destroy'), {}, undefined, { kind: 'down' }],
    [
      'destroy on a closed pull request',
      command('destroy', { state: 'closed' }),
      {},
      undefined,
      { kind: 'down' },
    ],
    ['pause', command('pause'), {}, undefined, { kind: 'pause' }],
    ['resume', command('resume'), {}, undefined, { kind: 'resume' }],
    ['status', command('status'), {}, undefined, skipped],
    ['help', command('help'), {}, undefined, skipped],
    ['kubeconfig', command('kubeconfig'), {}, undefined, skipped],
    ['unknown', command('unknown'), {}, undefined, skipped],
    ['reset on a closed pull request', command('reset', { state: 'closed' }), {}, undefined, skipped],
    ['resume on a closed pull request', command('resume', { state: 'closed' }), {}, undefined, skipped],
    ['reset of a draft', command('reset', { draft: true }), {}, undefined, skipped],
    ['redeploy without the label', command('redeploy'), { labels: ['preview'] }, undefined, skipped],
    [
      'reset of an unapproved fork',
      command('reset', { isFork: true }),
      {},
      undefined,
      { kind: 'await-approval', sha: head },
    ],
    [
      'redeploy of an approved fork',
      command('redeploy', { isFork: true }),
      {},
      head,
      { kind: 'redeploy', sha: head },
    ],
    // Approval
    ['approve a fork', command('approve', { isFork: true }), {}, undefined, { kind: 'up', sha: head }],
    [
      'approve a fork at its head sha',
      command('approve', { isFork: true }, [head]),
      {},
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'approve a fork at an older sha',
      command('approve', { isFork: true }, ['0'.repeat(40)]),
      {},
      undefined,
      skipped,
    ],
    // A short id can be matched by a commit made to match it: only the whole one approves.
    [
      'approve a fork at a short sha of its head',
      command('approve', { isFork: true }, [head.slice(0, 7)]),
      {},
      undefined,
      skipped,
    ],
    [
      'approve the head as it was when the comment was written',
      command('approve', {
        isFork: true,
        commentedAt: '2026-12-06T10:00:05Z',
        headSeenAt: '2026-12-06T10:00:00Z',
      }),
      {},
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'approve without a sha, after a push that came after the comment',
      command('approve', {
        isFork: true,
        commentedAt: '2026-12-06T10:00:05Z',
        headSeenAt: '2026-12-06T10:00:09Z',
      }),
      {},
      undefined,
      skipped,
    ],
    [
      'approve by name a head pushed after the comment',
      command(
        'approve',
        { isFork: true, commentedAt: '2026-12-06T10:00:05Z', headSeenAt: '2026-12-06T10:00:09Z' },
        [head],
      ),
      {},
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'approve with words, not a sha',
      command('approve', { isFork: true }, ['please']),
      {},
      undefined,
      { kind: 'up', sha: head },
    ],
    [
      'approve a fork, forks: never',
      command('approve', { isFork: true }),
      { forks: 'never' },
      undefined,
      skipped,
    ],
    ['approve a draft fork', command('approve', { isFork: true, draft: true }), {}, undefined, skipped],
    ['approve a pull request that is no fork', command('approve'), {}, undefined, skipped],
    [
      'approve on a closed pull request',
      command('approve', { isFork: true, state: 'closed' }),
      {},
      undefined,
      skipped,
    ],
  ])('%s', (_name, event, policy, approvedSha, expected) => {
    const context: DesiredStateContext = { config: { ...defaults, ...policy }, approvedSha };
    expect(desiredStateFor(event, context)).toEqual(expected);
  });

  it('tells a maintainer which commit their approval missed', () => {
    const event = command('approve', { isFork: true }, ['0'.repeat(40)]);
    expect(desiredStateFor(event, { config: defaults })).toEqual({
      kind: 'skip',
      reason: 'the approved commit 0000000 is no longer the head (a1b2c3d); approve again',
    });
    const late = command('approve', {
      isFork: true,
      commentedAt: '2026-12-06T10:00:05Z',
      headSeenAt: '2026-12-06T10:00:09Z',
    });
    expect(desiredStateFor(late, { config: defaults })).toEqual({
      kind: 'skip',
      reason: `the pull request was pushed to after your comment (its head is now a1b2c3d); look at it and approve again, or name it: /vcluster approve ${head}`,
    });
  });
});

describe('jobIdFor', () => {
  it.each([
    ['owner/repo', 12, 'pr-owner--repo-12'],
    ['Acme-Corp/Shop', 1, 'pr-acme-corp--shop-1'],
    ['acme/my.repo', 7, 'pr-acme--my_2erepo-7'],
    ['acme/my_repo', 7, 'pr-acme--my__repo-7'],
    ['acme/a:b', 3, 'pr-acme--a_3ab-3'],
    ['acme/łódź', 3, 'pr-acme--_u0142_f3d_u017a-3'],
  ])('%s #%d → %s', (repo, number, id) => {
    expect(jobIdFor(repo, number)).toBe(id);
  });

  it('holds to what BullMQ accepts as a custom id', () => {
    for (const repo of ['a/b', 'x.y/z_w', 'weird/na:me.with spaces']) {
      const id = jobIdFor(repo, 42);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(id).not.toMatch(/^\d+$/);
    }
  });

  it('gives repositories that look alike different ids', () => {
    const repos = [
      'acme/my.repo',
      'acme/my-repo',
      'acme/my_repo',
      'acme/my_2erepo',
      'acme-my/repo',
      'acme/my--repo',
    ];
    const ids = new Set(repos.map((repo) => jobIdFor(repo, 1)));
    expect(ids.size).toBe(repos.length);
    expect(jobIdFor('acme/repo-1', 2)).not.toBe(jobIdFor('acme/repo', 12));
  });

  it('treats names case-insensitively, as GitHub does', () => {
    expect(jobIdFor('ACME/Shop', 5)).toBe(jobIdFor('acme/shop', 5));
  });

  it.each([
    ['a-/b', 'a/-b'],
    ['a/b-', 'a/b_2d'],
    ['a--/b', 'a/--b'],
    ['a-/-b', 'a--/b'],
    ['a/b--c', 'a--b/c'],
  ])('never gives %s and %s one id (their jobs would collapse into one)', (one, other) => {
    expect(jobIdFor(one, 1)).not.toBe(jobIdFor(other, 1));
    expect(jobIdFor(one, 1)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('previewName', () => {
  const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

  it.each([
    ['acme/shop', 12, 'pr-12-acme--shop'],
    ['Acme/Shop', 12, 'pr-12-acme--shop'],
    ['acme-corp/web-app', 3, 'pr-3-acme-corp--web-app'],
    ['shop', 12, 'pr-12-shop'],
  ])('%s #%d → %s', (repo, number, name) => {
    expect(previewName(repo, number)).toEqual({ name, namespace: `preview-${name}` });
  });

  it.each([
    ['acme/my.repo', 1, /^pr-1-acme--my-repo-[0-9a-f]{6}$/],
    ['acme/my_repo', 1, /^pr-1-acme--my-repo-[0-9a-f]{6}$/],
    ['acme/.github', 1, /^pr-1-acme---github-[0-9a-f]{6}$/],
    ['acme/repo.', 1, /^pr-1-acme--repo-[0-9a-f]{6}$/],
  ])('adds a hash when %s had to change', (repo, number, pattern) => {
    expect(previewName(repo, number).name).toMatch(pattern);
  });

  it.each([
    ['a-/b', 'a/-b'],
    ['a--/b', 'a/--b'],
    ['a/b--c', 'a--b/c'],
    ['a/b.c', 'a/b-c'],
  ])('never gives %s and %s one namespace', (one, other) => {
    expect(previewName(one, 1).namespace).not.toBe(previewName(other, 1).namespace);
    expect(previewName(one, 1).name).toMatch(dnsLabel);
  });

  it('cuts long names to 52 characters and keeps them apart with a hash', () => {
    const long = `acme/${'very-long-repository-name-'.repeat(4)}`;
    const a = previewName(long, 123456);
    const b = previewName(`${long}x`, 123456);
    expect(a.name).toHaveLength(MAX_PREVIEW_NAME);
    expect(a.name.startsWith('pr-123456-acme--very-long-repository-name-ver-')).toBe(true);
    expect(a.name).toMatch(/-[0-9a-f]{6}$/);
    expect(a.name).not.toBe(b.name);
    expect(a.namespace.length).toBeLessThanOrEqual(63);
  });

  it('never cuts right after a hyphen', () => {
    // The first 45 characters end on a hyphen here.
    const { name } = previewName(`acme/${'a'.repeat(33)}-bbbbbbbbbbbbbbbb`, 1);
    expect(name).toMatch(/^pr-1-acme--a{33}-[0-9a-f]{6}$/);
    expect(name).toMatch(dnsLabel);
  });

  it('gives DNS labels within the limits, distinct for repositories that look alike', () => {
    const repos = [
      'acme/shop',
      'other/shop',
      'acme/my.repo',
      'acme/my-repo',
      'acme/my_repo',
      'acme-my/repo',
      'acme/my-repo-',
      'a/-x',
      `acme/${'x'.repeat(100)}`,
      `acme/${'x'.repeat(101)}`,
      `${'o'.repeat(39)}/${'x'.repeat(100)}`,
    ];
    const names = repos.map((repo) => previewName(repo, 987654));
    for (const { name, namespace } of names) {
      expect(name).toMatch(dnsLabel);
      expect(name.length).toBeLessThanOrEqual(MAX_PREVIEW_NAME);
      expect(namespace).toMatch(dnsLabel);
      expect(namespace.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(names.map(({ name }) => name)).size).toBe(repos.length);
  });
});
