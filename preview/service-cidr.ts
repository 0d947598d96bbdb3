import type { CoreV1Api } from '@kubernetes/client-node';
import { VirtualClusterError } from './provider.ts';

const errorText = (error: unknown): string => {
  const body = (error as { body?: unknown })?.body;
  const message = (body as { message?: unknown } | undefined)?.message;
  const fromBody = typeof body === 'string' ? body : typeof message === 'string' ? message : '';
  return `${fromBody}\n${error instanceof Error ? error.message : String(error)}`;
};

/**
 * The host's Service IP range(s) from the error an API server gives for a Service whose
 * `clusterIP` lies outside them ("... The range of valid IPs is 10.96.0.0/16"), as the vcluster CLI
 * detects it. Undefined when the message says something else.
 */
export function parseServiceCIDR(message: string): string | undefined {
  const match = /The range of valid IPs is\s+([0-9A-Fa-f:./,\s]+)/.exec(message);
  if (!match?.[1]) return undefined;
  const ranges = match[1]
    .split(/[,\s]+/)
    .map((range) => range.replace(/[.,]+$/, ''))
    .filter((range) => /^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(range));
  return ranges.length > 0 ? ranges.join(',') : undefined;
}

/**
 * The host's Service IP range(s), from the API server's answer to a server-side dry run of Services
 * with impossible ClusterIPs (vcluster's trick; nothing is created). Needs `create services` in `namespace`.
 */
export async function detectServiceCIDR(core: CoreV1Api, namespace: string): Promise<string> {
  const probe = async (clusterIP: string): Promise<{ cidr?: string; said: string }> => {
    try {
      await core.createNamespacedService({
        namespace,
        dryRun: 'All',
        body: {
          metadata: { name: 'vcluster-preview-service-cidr-probe' },
          spec: { clusterIP, ports: [{ port: 80 }] },
        },
      });
      return { said: `a Service with ClusterIP ${clusterIP} was accepted` };
    } catch (error) {
      const said = errorText(error);
      return { cidr: parseServiceCIDR(said), said };
    }
  };
  const ipv4 = await probe('1.1.1.1');
  const ipv6 = await probe('2001:db8::1');
  const found = [ipv4.cidr, ipv6.cidr].filter((cidr): cidr is string => Boolean(cidr));
  if (found.length === 0) {
    throw new VirtualClusterError(
      `could not detect the host cluster's Service IP range (the API server said: ${ipv4.said.trim().split('\n')[0]}); pass it explicitly (serviceCIDR, e.g. 10.96.0.0/12)`,
    );
  }
  return found.join(',');
}
