import { existsSync } from 'node:fs';
import { ensureBinaries, realNodeUnsupportedReason } from '../controlplane/index.ts';
import { type HostOptions, hostUp } from './host.ts';
import type { CliContext } from './run-cli.ts';
import { serve } from './serve-command.ts';

/**
 * `vcluster-preview up` (`npm start`), the main job on local defaults: the embedded host cluster
 * with its Redis in the background, then the service (`serve --role all`) in the foreground with
 * the local provider on that cluster. The GitHub App's own settings come from the environment or a
 * `.env` file here, as with Probot; without them it says what to set and leaves the host running.
 */
export async function up(
  context: CliContext,
  options: { host: HostOptions; envFile: string },
): Promise<void> {
  const { step, log } = context;
  if (existsSync(options.envFile)) process.loadEnvFile(options.envFile);
  const binaries = await step('control-plane binaries', () => ensureBinaries(log));
  // A real node where this machine allows it, so that previews really serve.
  const unsupported = options.host.realNode ? realNodeUnsupportedReason() : undefined;
  if (unsupported) log(`kwok nodes only: ${unsupported}`);
  const hostOptions = { ...options.host, realNode: options.host.realNode && !unsupported };
  const host = await step('host cluster and Redis', () => hostUp({ ...hostOptions, report: log }));
  if (!host.redisUrl) {
    throw new Error(
      'the running host cluster was started by an older version without Redis: run `vcluster-preview host down` and `npm start` again',
    );
  }
  log(`The host cluster is running (API server ${host.server}); Redis at ${host.redisUrl}.`);
  if (host.realNode) log(`Its real node runs the previews; their URLs are served at ${host.ingressUrl}.`);
  log(`  export KUBECONFIG=${host.kubeconfig}`);
  log(`  export PATH=${binaries.binDir}:$PATH`);
  log('Stop both with: vcluster-preview host down');

  const env = {
    KUBECONFIG: host.kubeconfig,
    REDIS_URL: host.redisUrl,
    VCLUSTER_PROVIDER: 'local',
    BASE_DOMAIN: 'preview.localhost',
    // The embedded host's ingress controller: `http://pr-1-hello-acme.preview.localhost:8080` opens in a
    // browser here, since every name under .localhost is this machine.
    ...(host.ingressUrl
      ? { PREVIEW_URL_SCHEME: 'http', PREVIEW_URL_PORT: new URL(host.ingressUrl).port || '80' }
      : {}),
    ...process.env,
  };
  // What the GitHub App needs from its owner; everything else has a local default.
  const missing = [
    ...(env.APP_ID ? [] : ['APP_ID']),
    ...(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH ? [] : ['PRIVATE_KEY_PATH']),
    ...(env.WEBHOOK_SECRET ? [] : ['WEBHOOK_SECRET']),
  ];
  if (missing.length > 0) {
    log('');
    log(
      `To serve your GitHub App here, set ${missing.join(', ')} (in the environment or ${options.envFile})`,
    );
    log('and run `npm start` again; the README lists the other settings. Meanwhile, virtual clusters:');
    log('  vcluster-preview create demo && vcluster-preview connect demo -- kubectl get namespaces');
    return;
  }
  log('');
  await serve('all', env);
}
