import { ignoreNotFound, type KubeClients } from '../../../kube/client.ts';
import { VirtualClusterError } from '../../provider.ts';
import { type ApiAccess, clusterIPServer, kubeconfigWithServer } from './kubeconfig.ts';
import { inClusterServer, kubeconfigSecretName } from './names.ts';

/** The users' kubeconfig the syncer wrote to its Secret; undefined until it has. */
export async function readKubeconfigSecret(
  host: KubeClients,
  name: string,
  namespace: string,
): Promise<string | undefined> {
  try {
    const secret = await host.core.readNamespacedSecret({ name: kubeconfigSecretName(name), namespace });
    const config = secret.data?.config;
    return config ? Buffer.from(config, 'base64').toString('utf8') : undefined;
  } catch (error) {
    return ignoreNotFound(error);
  }
}

/** The virtual API server's URL as this process reaches it (see `apiAccess`). */
async function serverFor(host: KubeClients, name: string, namespace: string, apiAccess: ApiAccess) {
  if (apiAccess !== 'cluster-ip') return inClusterServer(name, namespace);
  let clusterIP: string | undefined;
  try {
    clusterIP = (await host.core.readNamespacedService({ name, namespace })).spec?.clusterIP;
  } catch (error) {
    ignoreNotFound(error);
  }
  if (!clusterIP || clusterIP === 'None') {
    throw new VirtualClusterError(
      `virtual cluster ${name} has no API Service with a ClusterIP (Service ${name} in namespace ${namespace}); delete it and create it again`,
    );
  }
  return clusterIPServer(clusterIP);
}

/** The kubeconfig of a virtual cluster, naming its API server as `apiAccess` says. */
export async function readKubeconfig(
  host: KubeClients,
  name: string,
  namespace: string,
  apiAccess: ApiAccess,
): Promise<string> {
  const kubeconfig = await readKubeconfigSecret(host, name, namespace);
  if (!kubeconfig) {
    throw new VirtualClusterError(
      `virtual cluster ${name} is not ready: its syncer has not written ${kubeconfigSecretName(name)} yet (namespace ${namespace})`,
    );
  }
  if (apiAccess === 'secret') return kubeconfig;
  return kubeconfigWithServer(kubeconfig, await serverFor(host, name, namespace, apiAccess));
}
