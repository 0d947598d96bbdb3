import type { VolumeFenceOptions } from '../../../syncer/policy/volume-fence.ts';
import type { CreateOptions } from '../../provider.ts';
import { inClusterServer } from './names.ts';

/** What the provider sets on a release of the chart: its values and helm's arguments (pure). */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `override` into `base` (objects recursively; arrays and scalars replaced), without mutating either. */
export function mergeValues(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isRecord(current) && isRecord(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

/**
 * The chart values of one virtual cluster: the provider's values, then what the create options ask
 * for (isolation and the allowed ingress host suffix). Options left out keep the chart's defaults.
 */
export function renderValues(
  options: Pick<CreateOptions, 'isolation' | 'allowedHostSuffix'>,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const isolation: Record<string, unknown> = {};
  const { quota, networkPolicy, podSecurityStandard } = options.isolation ?? {};
  if (quota !== undefined) {
    isolation.resourceQuota = { enabled: quota };
    isolation.limitRange = { enabled: quota };
  }
  if (networkPolicy !== undefined) isolation.networkPolicy = { enabled: networkPolicy };
  if (podSecurityStandard !== undefined) isolation.podSecurityStandard = podSecurityStandard;
  const override: Record<string, unknown> = {};
  if (Object.keys(isolation).length > 0) override.isolation = isolation;
  if (options.allowedHostSuffix !== undefined)
    override.syncer = { allowedHostSuffix: options.allowedHostSuffix };
  return mergeValues(base, override);
}

/**
 * The operator's values for every release: the provider's `values`, then its IngressClass and volume
 * fence (service settings), which win over them.
 */
export function operatorValues(options: {
  values?: Record<string, unknown>;
  ingressClassName?: string;
  volumeFence?: VolumeFenceOptions;
}): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  if (options.ingressClassName) override.syncer = { ingressClassName: options.ingressClassName };
  const { allowedCsiDrivers, allowedStorageClasses } = options.volumeFence ?? {};
  const isolation: Record<string, unknown> = {};
  if (allowedCsiDrivers !== undefined) isolation.allowedCsiDrivers = [...allowedCsiDrivers];
  if (allowedStorageClasses !== undefined) isolation.allowedStorageClasses = [...allowedStorageClasses];
  if (Object.keys(isolation).length > 0) override.isolation = isolation;
  return mergeValues(options.values ?? {}, override);
}

/**
 * Everything the provider sets on a release: the users' kubeconfig Secret names the chart's Service
 * (which every pod of the host reaches; the provider's `values` may say otherwise), then the
 * provider's values, then what the create options ask for.
 */
export function chartValues(
  name: string,
  namespace: string,
  options: Pick<CreateOptions, 'isolation' | 'allowedHostSuffix'>,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const defaults = { syncer: { kubeconfigServer: inClusterServer(name, namespace) } };
  return renderValues(options, mergeValues(defaults, base));
}

/** `helm upgrade --install` arguments (the kubeconfig and values file paths are the caller's). */
export function helmInstallArgs(input: {
  name: string;
  namespace: string;
  chart: string;
  serviceCIDR: string;
  valuesFile: string;
}): string[] {
  return [
    'upgrade',
    '--install',
    input.name,
    input.chart,
    '--namespace',
    input.namespace,
    // helm splits --set on commas: a dual-stack range pair must keep its comma.
    '--set',
    `serviceCIDR=${input.serviceCIDR.replaceAll(',', '\\,')}`,
    '-f',
    input.valuesFile,
  ];
}
