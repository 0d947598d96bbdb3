import type { V1Pod } from '@kubernetes/client-node';
import { apiErrorMessage, type KubeClients } from '../kube/client.ts';
import { failingContainers, formatLogTail } from './diagnose.ts';

/**
 * The log tails of the failing containers of some pods, read through the virtual cluster's API (the
 * way `kubectl logs` reads them), masked with the values of the virtual cluster's Secrets, for a
 * diagnosis (preview/diagnose.ts formats them).
 */

export interface ContainerLogTail {
  pod: string;
  container: string;
  /** From the run before the container restarted. */
  previous: boolean;
  lines: string[];
}

/** Every value of every Secret of the virtual cluster, decoded: what a quoted log must not show. */
export async function readSecretValues(clients: KubeClients): Promise<string[]> {
  const secrets = await clients.core.listSecretForAllNamespaces();
  return secrets.items.flatMap((secret) =>
    Object.values(secret.data ?? {}).flatMap((value) => {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      // A multi-line value (a certificate, a file) is masked line by line, as it shows in a log.
      return [decoded, ...decoded.split(/\r?\n/)];
    }),
  );
}

export async function readFailingLogs(
  clients: KubeClients,
  namespace: string,
  pods: readonly V1Pod[],
  options: { lines?: number; width?: number; maxLogs?: number } = {},
): Promise<ContainerLogTail[]> {
  const wanted = pods
    .flatMap((pod) =>
      failingContainers(pod).map((failing) => ({ pod: pod.metadata?.name ?? '', ...failing })),
    )
    .slice(0, options.maxLogs ?? 3);
  if (wanted.length === 0) return [];
  const secrets = await readSecretValues(clients).catch(() => undefined);
  return Promise.all(
    wanted.map(async ({ pod, container, previous }) => {
      let lines: string[];
      if (!secrets) lines = ["(its log is not shown: the preview's Secrets could not be read to mask it)"];
      else {
        try {
          const text = await clients.core.readNamespacedPodLog({
            name: pod,
            namespace,
            container,
            previous,
            // A few more than shown, for the blank lines at the end.
            tailLines: (options.lines ?? 20) + 5,
          });
          lines = formatLogTail(String(text ?? ''), { ...options, secrets });
          if (lines.length === 0) lines = ['(the log is empty)'];
        } catch (error) {
          lines = [`(could not read its log: ${apiErrorMessage(error).split('\n')[0]})`];
        }
      }
      return { pod, container, previous, lines };
    }),
  );
}
