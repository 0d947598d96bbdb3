import { existsSync } from 'node:fs';
import { ensureBinaries, realNodeUnsupportedReason } from '../controlplane/index.ts';
import { readHostKubeconfig } from '../kube/host-kubeconfig.ts';
import { defaultTreeName } from '../preview/tree-name.ts';
import { type HostOptions, hostUp } from './host.ts';
import { previewOnce } from './preview-command.ts';
import type { CliContext } from './run-cli.ts';
import { serve } from './serve-command.ts';

/**
 * `vcluster-preview up` (`npm start`), the main job on local defaults: the embedded host cluster
 * with its Redis in the background, the service (`serve --role all`: status page, worker) in the
 * foreground with the local provider on that cluster, and a preview of the example's working tree,
 * so a new machine shows a URL that answers. The GitHub App's own settings come from the
 * environment or a `.env` file here, as with Probot; without them webhooks and the API are off.
 * Ctrl-C stops the service; the host cluster and the previews keep running until `host down`.
 */
export async function up(
  context: CliContext,
  options: { host: HostOptions; envFile: string; example?: string },
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
    // A visit keeps a preview awake: the sweep reads the embedded Traefik's request counts.
    ...(host.ingressMetricsUrl ? { PREVIEW_TRAFFIC_METRICS_URL: host.ingressMetricsUrl } : {}),
    ...process.env,
  };
  // What the GitHub App needs from its owner; everything else has a local default.
  const missing = [
    ...(env.APP_ID ? [] : ['APP_ID']),
    ...(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH ? [] : ['PRIVATE_KEY_PATH']),
    ...(env.WEBHOOK_SECRET ? [] : ['WEBHOOK_SECRET']),
  ];
  // The service (web + worker), with the App when it is configured; without it, what needs no App.
  const { service, config, provider } = await step('the service (web + worker)', () =>
    serve('all', env, { githubApp: 'optional' }),
  );
  if (!provider) throw new Error('the service started without a worker');
  log(`The service is running at ${service.url}/ (status page; stop with Ctrl-C).`);
  if (config.appId === undefined) {
    log(
      `To serve your GitHub App here, set ${missing.join(', ')} (in the environment or ${options.envFile}) and run \`npm start\` again; the README lists the other settings.`,
    );
  }
  if (!options.example) return;
  // What the product does, without an App: the example's working tree previewed like a pull request.
  await previewOnce(
    {
      provider,
      hostKubeconfig: await readHostKubeconfig(config.kubeconfig),
      baseDomain: config.baseDomain ?? 'preview.localhost',
      helmBinary: binaries.path('helm'),
      urlStyle: config.urlStyle,
      ...(config.previewIngressClass ? { ingressClassName: config.previewIngressClass } : {}),
    },
    { dir: options.example, name: defaultTreeName(options.example) },
    log,
  ).catch((error) => {
    // The service keeps running: the status page shows the failure too.
    log(`error: the example's preview failed: ${(error as Error).message}`);
  });
  log(`Edit it live: vcluster-preview preview ${options.example} --watch`);
}
