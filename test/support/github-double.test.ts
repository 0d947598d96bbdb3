import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubDouble, startGitHubDouble } from './github-double.ts';

/** The double is a test tool: these check that Octokit talks to it as to GitHub. */
describe('GitHub double', () => {
  let github: GitHubDouble;
  let octokit: Octokit;
  const owner = 'acme';
  const repo = 'shop';
  const sha = 'a'.repeat(40);

  beforeAll(async () => {
    github = await startGitHubDouble();
    octokit = new Octokit({ baseUrl: github.url, auth: 'ghs_test' });
    github.addRepo(owner, repo, { installationId: 42 });
    github.addPullRequest({ owner, repo, number: 7, headSha: sha, author: 'dev' });
  });
  afterAll(() => github.stop());

  it('issues installation tokens for any JWT and finds the installation of a repo', async () => {
    const jwt = new Octokit({ baseUrl: github.url, auth: 'eyJhbGciOi.eyJpc3Mi.c2ln' });
    const { data: installation } = await jwt.rest.apps.getRepoInstallation({ owner, repo });
    expect(installation.id).toBe(42);
    const { data: token, status } = await jwt.rest.apps.createInstallationAccessToken({
      installation_id: 42,
    });
    expect(status).toBe(201);
    expect(token.token).toMatch(/^ghs_/);
    expect(Date.parse(token.expires_at)).toBeGreaterThan(Date.now());
    await expect(
      octokit.rest.apps.createInstallationAccessToken({ installation_id: 42 }),
    ).rejects.toMatchObject({
      status: 401,
    });
  });

  it('serves files per ref as base64, lists directories, answers 404 for what is missing', async () => {
    github.setFile(owner, repo, sha, '.github/vcluster-preview.yml', 'app:\n  port: 8080\n');
    github.setFile(owner, repo, sha, 'deploy/app.yaml', 'kind: Deployment\n');
    const { data: file } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path: '.github/vcluster-preview.yml',
      ref: sha,
    });
    if (Array.isArray(file) || file.type !== 'file') throw new Error('expected a file');
    expect(file.encoding).toBe('base64');
    expect(Buffer.from(file.content, 'base64').toString()).toBe('app:\n  port: 8080\n');
    const { data: root } = await octokit.rest.repos.getContent({ owner, repo, path: '', ref: sha });
    expect(Array.isArray(root) && root.map((entry) => [entry.name, entry.type])).toEqual([
      ['.github', 'dir'],
      ['deploy', 'dir'],
    ]);
    await expect(
      octokit.rest.repos.getContent({ owner, repo, path: 'nope.yml', ref: sha }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      octokit.rest.repos.getContent({ owner, repo, path: '.github/vcluster-preview.yml', ref: 'main' }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('answers collaborator permissions with GitHub’s folding of roles', async () => {
    github.setPermission(owner, repo, 'maintainer', 'maintain');
    const permission = async (username: string) =>
      (await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username })).data;
    expect(await permission('maintainer')).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect(await permission('stranger')).toMatchObject({ permission: 'none' });
    expect(await permission('acme')).toMatchObject({ permission: 'admin', user: { login: 'acme' } });
  });

  it('keeps comments, reactions and deployments, paginates with Link, records every call', async () => {
    for (let i = 0; i < 35; i++) github.addComment(owner, repo, 7, `comment ${i}`, 'dev');
    const { data: created } = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: 7,
      body: 'hi',
    });
    expect(created.user?.login).toBe('vcluster-preview[bot]');
    await octokit.rest.issues.updateComment({ owner, repo, comment_id: created.id, body: 'edited' });
    const all = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: 7 });
    expect(all).toHaveLength(36);
    expect(all.at(-1)?.body).toBe('edited');
    expect(github.callsTo('GET', '/repos/acme/shop/issues/7/comments')).toHaveLength(2);

    const reaction = await octokit.rest.reactions.createForIssueComment({
      owner,
      repo,
      comment_id: created.id,
      content: 'eyes',
    });
    expect(reaction.status).toBe(201);
    const again = await octokit.rest.reactions.createForIssueComment({
      owner,
      repo,
      comment_id: created.id,
      content: 'eyes',
    });
    expect(again.status).toBe(200);

    const { data: deployment } = await octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref: sha,
      environment: 'preview/pr-7',
      transient_environment: true,
    });
    if (!('id' in deployment)) throw new Error('expected a deployment');
    await octokit.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: deployment.id,
      state: 'success',
    });
    const { data: listed } = await octokit.rest.repos.listDeployments({
      owner,
      repo,
      environment: 'preview/pr-7',
    });
    expect(listed.map((entry) => entry.id)).toEqual([deployment.id]);
    expect(github.deployments(owner, repo)[0]?.statuses.map((status) => status.state)).toEqual(['success']);

    const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    expect(pull).toMatchObject({ number: 7, head: { sha }, user: { login: 'dev' }, state: 'open' });
    expect(github.calls.at(-1)).toMatchObject({
      method: 'GET',
      path: '/repos/acme/shop/pulls/7',
      status: 200,
    });
  });

  it('injects failures, then serves again; accepts the /api/v3 prefix of GitHub Enterprise', async () => {
    github.failNext({ method: 'GET', path: '/repos/acme/shop/pulls/7', times: 1, status: 502 });
    github.failNext({ path: /\/pulls\/7$/, status: 403, headers: { 'retry-after': '3' } });
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({
      status: 502,
    });
    const limited = await octokit.rest.pulls
      .get({ owner, repo, pull_number: 7 })
      .catch((error: unknown) => error);
    expect(limited).toMatchObject({ status: 403, response: { headers: { 'retry-after': '3' } } });
    expect(String((limited as Error).message)).toMatch(/secondary rate limit/);
    const enterprise = new Octokit({ baseUrl: `${github.url}/api/v3`, auth: 'ghs_test' });
    expect((await enterprise.rest.pulls.get({ owner, repo, pull_number: 7 })).status).toBe(200);
    expect(github.callsTo('GET', '/repos/acme/shop/pulls/7').map((call) => call.status)).toEqual([
      200, 502, 403, 200,
    ]);
  });

  it('lists a commit’s check runs, newest per name unless all are asked for, with its pull requests', async () => {
    const first = github.addCheckRun(owner, repo, {
      name: 'build',
      headSha: sha,
      status: 'completed',
      conclusion: 'failure',
    });
    github.addCheckRun(owner, repo, {
      name: 'lint',
      headSha: sha,
      status: 'completed',
      conclusion: 'success',
    });
    const rerun = github.addCheckRun(owner, repo, { name: 'build', headSha: sha, status: 'in_progress' });
    github.addCheckRun(owner, repo, { name: 'build', headSha: 'b'.repeat(40), status: 'queued' });
    expect(rerun.pullRequests?.map((pull) => pull.number)).toEqual([7]);

    const latest = await octokit.paginate(octokit.rest.checks.listForRef, {
      owner,
      repo,
      ref: sha,
      per_page: 1,
    });
    expect(latest.map((run) => [run.name, run.status, run.conclusion])).toEqual([
      ['build', 'in_progress', null],
      ['lint', 'completed', 'success'],
    ]);
    expect(latest[0]?.pull_requests.map((pull) => pull.number)).toEqual([7]);
    const { data: all } = await octokit.rest.checks.listForRef({ owner, repo, ref: sha, filter: 'all' });
    expect(all.total_count).toBe(3);
    expect(all.check_runs.map((run) => run.id)).toContain(first.id);

    const done = github.updateCheckRun(owner, repo, rerun.id, { status: 'completed', conclusion: 'success' });
    expect(done).toMatchObject({ name: 'build', status: 'completed', conclusion: 'success' });
    const { data: after } = await octokit.rest.checks.listForRef({
      owner,
      repo,
      ref: sha,
      check_name: 'build',
    });
    expect(after.check_runs.map((run) => [run.id, run.conclusion])).toEqual([[rerun.id, 'success']]);
  });
});
