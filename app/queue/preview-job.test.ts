import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { parsePreviewJob } from './preview-job.ts';

const sha = 'a'.repeat(40);

describe('parsePreviewJob', () => {
  it('accepts every desired state and the optional fields', () => {
    for (const desired of [
      { kind: 'up', sha },
      { kind: 'down' },
      { kind: 'reset', sha },
      { kind: 'redeploy', sha },
      { kind: 'pause' },
      { kind: 'resume' },
      { kind: 'skip', reason: 'draft' },
      { kind: 'await-approval', sha },
      { kind: 'up', sha, variables: { image: 'ghcr.io/acme/shop:abc' } },
      { kind: 'reset', sha, variables: {} },
    ]) {
      expect(parsePreviewJob({ repo: 'acme/shop.web', pr: 3, desired }).desired).toEqual(desired);
    }
    const full = {
      repo: 'acme/shop',
      pr: 12,
      desired: { kind: 'down' },
      installationId: 7,
      requestedBy: 'octocat',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      reason: { kind: 'closed', text: 'the pull request was closed' },
    };
    expect(parsePreviewJob(full)).toEqual(full);
  });

  it('fails a malformed job with an UnrecoverableError that names each wrong field', () => {
    let error: unknown;
    try {
      parsePreviewJob({ repo: 'shop', pr: -1, desired: { kind: 'up', sha: 'main' } }, 'pr-x-1');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnrecoverableError);
    const message = (error as Error).message;
    expect(message).toContain('malformed preview job pr-x-1');
    expect(message).toContain('repo: expected owner/name');
    expect(message).toContain('pr:');
    expect(message).toContain('desired.sha: expected a commit id');
  });

  it('holds the variables read back to the rules the API took them by', () => {
    expect(() =>
      parsePreviewJob({ repo: 'a/b', pr: 1, desired: { kind: 'up', sha, variables: { image: 'a\nb' } } }),
    ).toThrow(/desired\.variables\.image: has a line break/);
    expect(() =>
      parsePreviewJob({ repo: 'a/b', pr: 1, desired: { kind: 'redeploy', sha, variables: { Image: 'x' } } }),
    ).toThrow(/desired\.variables\.Image/);
  });

  it('rejects a reason the sticky comment could not say', () => {
    expect(() =>
      parsePreviewJob({
        repo: 'a/b',
        pr: 1,
        desired: { kind: 'down' },
        reason: { kind: 'bored', text: 'x' },
      }),
    ).toThrow(/reason\.kind/);
    expect(() =>
      parsePreviewJob({ repo: 'a/b', pr: 1, desired: { kind: 'down' }, reason: { kind: 'idle', text: '' } }),
    ).toThrow(/reason\.text/);
  });

  it('rejects an unknown desired state and data that is not an object', () => {
    expect(() => parsePreviewJob({ repo: 'a/b', pr: 1, desired: { kind: 'explode' } })).toThrow(
      /desired\.kind/,
    );
    expect(() => parsePreviewJob('{"repo":"a/b"}')).toThrow(UnrecoverableError);
    expect(() => parsePreviewJob(undefined)).toThrow(/\(job data\)/);
  });
});
