import { describe, expect, it } from 'vitest';
import { type PreviewStatus, ServiceError, ServiceUnreachableError } from './service-client.ts';
import { describeStatus, PreviewTimeoutError, waitForPreview } from './wait.ts';

/** Answers the statuses in turn (an Error is thrown), on a clock that sleeping moves on. */
function scripted(answers: (PreviewStatus | Error)[]) {
  let clock = 0;
  const lines: string[] = [];
  const warnings: string[] = [];
  const client = {
    status: async () => {
      // The last answer repeats.
      const answer = (answers.length > 1 ? answers.shift() : answers[0]) ?? { state: 'queued' };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const options = {
    client,
    statusUrl: '/api/v1/previews/acme/shop/1',
    log: (line: string) => lines.push(line),
    warn: (line: string) => warnings.push(line),
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
    intervalMs: 1000,
  };
  return { options, lines, warnings };
}

describe('waitForPreview', () => {
  it('polls until a final state, saying each change once', async () => {
    const { options, lines } = scripted([
      { state: 'queued', queuePosition: 2 },
      { state: 'queued', queuePosition: 2 },
      { state: 'deploying', steps: [{ name: 'Read config', status: 'running' }] },
      { state: 'ready', url: 'http://pr-1.preview.test/' },
    ]);
    expect(await waitForPreview({ ...options, timeoutMs: 60_000 })).toEqual({
      state: 'ready',
      url: 'http://pr-1.preview.test/',
    });
    expect(lines).toEqual(['queued, 2nd in line', 'deploying: … Read config', 'ready']);
  });

  it('polls through a service restart, and stops at a refusal', async () => {
    const { options, warnings } = scripted([
      new ServiceUnreachableError('down'),
      new ServiceError(503, 'Redis', 'later'),
      { state: 'failed' },
    ]);
    expect((await waitForPreview({ ...options, timeoutMs: 60_000 })).state).toBe('failed');
    expect(warnings).toHaveLength(2);
    const refused = scripted([new ServiceError(401, 'the token was refused: expired', 'fresh one')]);
    await expect(waitForPreview({ ...refused.options, timeoutMs: 60_000 })).rejects.toThrow(/answered 401/);
  });

  it('gives up at the timeout with the last state', async () => {
    const { options } = scripted([{ state: 'deploying' }]);
    const waiting = waitForPreview({ ...options, timeoutMs: 5000 });
    await expect(waiting).rejects.toThrow(PreviewTimeoutError);
    await expect(
      waitForPreview({ ...scripted([{ state: 'queued', queuePosition: 1 }]).options, timeoutMs: 5000 }),
    ).rejects.toThrow(/not ready within 5 s \(last state: queued, 1st in line\)/);
  });
});

describe('describeStatus', () => {
  it('shows the steps with their marks and times', () => {
    expect(
      describeStatus({
        state: 'deploying',
        steps: [
          { name: 'Read config', status: 'done', durationMs: 120 },
          { name: 'Virtual cluster', status: 'running', durationMs: 2000 },
          { name: 'Deploy', status: 'pending' },
        ],
      }),
    ).toBe('deploying: ✓ Read config (0.1 s), … Virtual cluster (2.0 s), · Deploy');
  });
});
