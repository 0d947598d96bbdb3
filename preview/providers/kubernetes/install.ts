import { stringify } from 'yaml';
import { VirtualClusterError } from '../../provider.ts';
import { type Helm, HelmError } from './helm.ts';
import { helmInstallArgs } from './values.ts';

/** helm upgrade --install; an earlier helm run that died midway (pending-*) is cleared first. */
export async function installChart(
  helm: Helm,
  release: {
    name: string;
    namespace: string;
    chart: string;
    serviceCIDR: string;
    values: Record<string, unknown>;
  },
): Promise<void> {
  const { name, namespace, chart, serviceCIDR } = release;
  const args = helmInstallArgs({ name, namespace, chart, serviceCIDR, valuesFile: '@file:values.yaml' });
  const files = { 'values.yaml': stringify(release.values) };
  try {
    await helm(args, files);
  } catch (error) {
    if (!(error instanceof HelmError) || !/another operation .* is in progress/.test(error.stderr)) {
      throw new VirtualClusterError(
        `installing the vcluster chart (release ${name} in namespace ${namespace}) failed: ${error instanceof HelmError ? error.stderr.trim() : String(error)}`,
      );
    }
    const status = JSON.parse(await helm(['status', name, '--namespace', namespace, '-o', 'json'])) as {
      info?: { status?: string };
      version?: number;
    };
    if (status.info?.status === 'pending-install') {
      await helm(['uninstall', name, '--namespace', namespace, '--ignore-not-found']);
    } else {
      await helm(['rollback', name, '--namespace', namespace]);
    }
    await helm(args, files);
  }
}
