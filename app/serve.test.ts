import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { missingReconcile, startService } from './serve.ts';
import { ServiceConfigError } from './service-config.ts';

describe('startService', () => {
  it('without a reconciler, jobs fail at once rather than being dropped', async () => {
    const context = {
      log: pino({ level: 'silent' }),
      progress: async () => {},
      signal: new AbortController().signal,
      jobId: 'j',
      attempt: 1,
      attemptsLeft: 0,
    };
    await expect(
      missingReconcile({ repo: 'acme/shop', pr: 1, desired: { kind: 'down' } }, context),
    ).rejects.toThrow(new UnrecoverableError('no reconciler configured'));
  });

  it('refuses to start on a bad environment, naming the variables, before opening anything', async () => {
    const started = startService({ role: 'web', env: { APP_ID: '1' }, handleSignals: false });
    await expect(started).rejects.toBeInstanceOf(ServiceConfigError);
    await expect(started).rejects.toThrow(/REDIS_URL is required/);
  });
});
