import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeKubeconfigFile } from './kubeconfig-file.ts';

describe('writeKubeconfigFile', () => {
  it('writes under RUNNER_TEMP, readable by the job user only, also over an older file', () => {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'runner-temp-'));
    const older = join(runnerTemp, 'vcluster-preview', 'pr-4.kubeconfig');
    const first = writeKubeconfigFile({ kubeconfig: 'old', pullRequest: 4, runnerTemp });
    expect(first).toBe(older);
    chmodSync(older, 0o644);
    const path = writeKubeconfigFile({ kubeconfig: 'apiVersion: v1\n', pullRequest: 4, runnerTemp });
    expect(path).toBe(older);
    expect(readFileSync(path, 'utf8')).toBe('apiVersion: v1\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
