import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import { ManagedProcess } from './process.ts';

/** The host cluster's domain, as kubelet's `clusterDomain` names it. */
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * The Corefile of the embedded host's DNS: Service and pod names of the host cluster (read through
 * the API server with the given kubeconfig), answered only on `listenIP`. Names outside the cluster
 * go to the machine's resolver. Pure.
 */
export function hostDnsCorefile(options: { listenIP: string; kubeconfigFile: string }): string {
  return `.:53 {
    bind ${options.listenIP}
    errors
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${options.kubeconfigFile}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
}
`;
}

/**
 * CoreDNS as the embedded host's cluster DNS, a process of this machine like its ingress controller:
 * it listens on the machine's end of the real node's veth pair, which kubelet gives host pods as
 * their nameserver (`clusterDNS`), so that a pod of the host (the service's worker, Redis clients)
 * resolves `<service>.<namespace>.svc.cluster.local`. Pods of virtual clusters keep their own DNS.
 */
export async function startHostDns(options: {
  binaries: Binaries;
  listenIP: string;
  /** Admin kubeconfig file of the host cluster. */
  kubeconfigFile: string;
  /** Folder for the Corefile and the log. */
  dir: string;
}): Promise<ManagedProcess> {
  const corefile = join(options.dir, 'Corefile');
  await writeFile(corefile, hostDnsCorefile(options));
  return new ManagedProcess({
    name: 'host-dns',
    command: options.binaries.path('coredns'),
    args: ['-conf', corefile],
    logFile: join(options.dir, 'host-dns.log'),
  });
}
