import type { V1Container, V1EphemeralContainer, V1Pod, V1PodSpec, V1Probe } from '@kubernetes/client-node';

/**
 * The Kubernetes Pod Security Standards (`latest`, as of Kubernetes 1.36), checked by the syncer
 * before a virtual pod goes to the host, as vcluster does. Each violation reads like a message of
 * the pod-security admission plugin: the check's reason, then which field of which pod or
 * container broke it, e.g. `privileged (container "app" must not set securityContext.privileged=true)`.
 */

export const POD_SECURITY_LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

export function isPodSecurityLevel(value: unknown): value is PodSecurityLevel {
  return typeof value === 'string' && (POD_SECURITY_LEVELS as readonly string[]).includes(value);
}

/** Capabilities a baseline container may add (the container runtimes' default set). */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Sysctls that are namespaced and isolated between pods, so baseline allows them. */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ping_group_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_wmem',
]);

/** SELinux types baseline allows (besides none). */
export const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set([
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** Volume sources restricted allows; every other inline source is refused. */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

type AnyContainer = V1Container | V1EphemeralContainer;

/**
 * The violations of `level` by this pod; empty when it is allowed. `privileged` allows everything.
 * Restricted includes baseline, except where a restricted check replaces a baseline one (volume
 * types replace hostPath volumes; restricted capabilities, seccomp and procMount replace theirs).
 */
export function podSecurityViolations(pod: V1Pod, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const spec: V1PodSpec = pod.spec ?? { containers: [] };
  const annotations = pod.metadata?.annotations ?? {};
  const restricted = level === 'restricted';
  // Windows pods have no Linux security context: these restricted checks do not apply to them.
  const windows = spec.os?.name === 'windows';
  // A pod in its own user namespace is not root on the node, whatever uid it runs as.
  const userNamespace = spec.hostUsers === false;

  const checks: (string | undefined)[] = [
    hostProcess(spec),
    hostNamespaces(spec),
    privileged(spec),
    restricted && !windows ? capabilitiesRestricted(spec) : capabilitiesBaseline(spec),
    restricted ? restrictedVolumes(spec) : hostPathVolumes(spec),
    hostPorts(spec),
    appArmor(spec, annotations),
    seLinuxOptions(spec),
    restricted || !userNamespace ? procMount(spec) : undefined,
    restricted && !windows ? seccompRestricted(spec) : seccompBaseline(spec),
    sysctls(spec),
    probeOrLifecycleHost(spec),
  ];
  if (restricted) {
    checks.push(
      windows ? undefined : allowPrivilegeEscalation(spec),
      userNamespace ? undefined : runAsNonRoot(spec),
      userNamespace ? undefined : runAsUser(spec),
    );
  }
  return checks.filter((violation): violation is string => violation !== undefined);
}

/** One line for an event or an error: `violates PodSecurity "baseline:latest": a (…), b (…)`. */
export function podSecurityMessage(level: PodSecurityLevel, violations: readonly string[]): string {
  return `violates PodSecurity "${level}:latest": ${violations.join(', ')}`;
}

// ---- helpers ----

function allContainers(spec: V1PodSpec): AnyContainer[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

const quote = (value: string | number) => JSON.stringify(String(value));
const joinQuote = (values: readonly (string | number)[]) => values.map(quote).join(', ');
const plural = (singular: string, pluralForm: string, count: number) => (count === 1 ? singular : pluralForm);
const unique = <T>(values: readonly T[]) => [...new Set(values)];

/** `container "a"` or `containers "a", "b"`. */
function containersPhrase(names: readonly string[]): string {
  const distinct = unique(names);
  return `${plural('container', 'containers', distinct.length)} ${joinQuote(distinct)}`;
}

/** `pod and container "a"`, `pod`, `containers "a", "b"`: who set a field wrongly. */
function settersPhrase(pod: boolean, containers: readonly string[]): string {
  const parts: string[] = [];
  if (pod) parts.push('pod');
  if (containers.length > 0) parts.push(containersPhrase(containers));
  return parts.join(' and ');
}

const violation = (reason: string, detail: string) => `${reason} (${detail})`;

function containersWhere(spec: V1PodSpec, predicate: (container: AnyContainer) => boolean): string[] {
  return allContainers(spec)
    .filter(predicate)
    .map((container) => container.name);
}

// ---- baseline ----

function hostProcess(spec: V1PodSpec): string | undefined {
  const pod = spec.securityContext?.windowsOptions?.hostProcess === true;
  const containers = containersWhere(spec, (c) => c.securityContext?.windowsOptions?.hostProcess === true);
  if (!pod && containers.length === 0) return undefined;
  return violation(
    'hostProcess',
    `${settersPhrase(pod, containers)} must not set securityContext.windowsOptions.hostProcess=true`,
  );
}

function hostNamespaces(spec: V1PodSpec): string | undefined {
  const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((field) => spec[field] === true);
  if (set.length === 0) return undefined;
  return violation('host namespaces', set.map((field) => `${field}=true`).join(', '));
}

function privileged(spec: V1PodSpec): string | undefined {
  const containers = containersWhere(spec, (c) => c.securityContext?.privileged === true);
  if (containers.length === 0) return undefined;
  return violation(
    'privileged',
    `${containersPhrase(containers)} must not set securityContext.privileged=true`,
  );
}

function capabilitiesBaseline(spec: V1PodSpec): string | undefined {
  const containers: string[] = [];
  const capabilities = new Set<string>();
  for (const container of allContainers(spec)) {
    const bad = (container.securityContext?.capabilities?.add ?? []).filter(
      (capability) => !BASELINE_CAPABILITIES.has(capability),
    );
    if (bad.length === 0) continue;
    containers.push(container.name);
    for (const capability of bad) capabilities.add(capability);
  }
  if (containers.length === 0) return undefined;
  return violation(
    'non-default capabilities',
    `${containersPhrase(containers)} must not include ${joinQuote([...capabilities].sort())} in securityContext.capabilities.add`,
  );
}

function hostPathVolumes(spec: V1PodSpec): string | undefined {
  const volumes = (spec.volumes ?? []).filter((volume) => volume.hostPath).map((volume) => volume.name);
  if (volumes.length === 0) return undefined;
  return violation(
    'hostPath volumes',
    `${plural('volume', 'volumes', volumes.length)} ${joinQuote(volumes)}`,
  );
}

function hostPorts(spec: V1PodSpec): string | undefined {
  const containers: string[] = [];
  const ports = new Set<number>();
  for (const container of allContainers(spec)) {
    const used = (container.ports ?? []).map((port) => port.hostPort ?? 0).filter((port) => port !== 0);
    if (used.length === 0) continue;
    containers.push(container.name);
    for (const port of used) ports.add(port);
  }
  if (containers.length === 0) return undefined;
  const sorted = [...ports].sort((a, b) => a - b);
  return violation(
    'hostPort',
    `${containersPhrase(containers)} ${plural('uses', 'use', unique(containers).length)} ${plural('hostPort', 'hostPorts', sorted.length)} ${sorted.join(', ')}`,
  );
}

function appArmor(spec: V1PodSpec, annotations: Record<string, string>): string | undefined {
  const bad: string[] = [];
  for (const [key, value] of Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b))) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    if (value === '' || value === 'runtime/default' || value.startsWith('localhost/')) continue;
    bad.push(`${key}=${quote(value)}`);
  }
  const allowedType = (type: string | undefined) =>
    type === undefined || type === 'RuntimeDefault' || type === 'Localhost';
  const podType = spec.securityContext?.appArmorProfile?.type;
  if (!allowedType(podType))
    bad.push(`pod must not set securityContext.appArmorProfile.type to ${quote(podType ?? '')}`);
  for (const container of allContainers(spec)) {
    const type = container.securityContext?.appArmorProfile?.type;
    if (!allowedType(type))
      bad.push(
        `container ${quote(container.name)} must not set securityContext.appArmorProfile.type to ${quote(type ?? '')}`,
      );
  }
  if (bad.length === 0) return undefined;
  return violation(
    plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length),
    bad.join(', '),
  );
}

function seLinuxOptions(spec: V1PodSpec): string | undefined {
  const types = new Set<string>();
  let user = false;
  let role = false;
  const valid = (options: { type?: string; user?: string; role?: string } | undefined) => {
    if (!options) return true;
    let ok = true;
    if (options.type && !ALLOWED_SELINUX_TYPES.has(options.type)) {
      types.add(options.type);
      ok = false;
    }
    if (options.user) {
      user = true;
      ok = false;
    }
    if (options.role) {
      role = true;
      ok = false;
    }
    return ok;
  };
  const pod = !valid(spec.securityContext?.seLinuxOptions);
  const containers = containersWhere(spec, (c) => !valid(c.securityContext?.seLinuxOptions));
  if (!pod && containers.length === 0) return undefined;
  const what: string[] = [];
  if (types.size > 0) what.push(`${plural('type', 'types', types.size)} ${joinQuote([...types].sort())}`);
  if (user) what.push('user may not be set');
  if (role) what.push('role may not be set');
  return violation(
    'seLinuxOptions',
    `${settersPhrase(pod, containers)} set forbidden securityContext.seLinuxOptions: ${what.join('; ')}`,
  );
}

function procMount(spec: V1PodSpec): string | undefined {
  const values = new Set<string>();
  const containers = containersWhere(spec, (c) => {
    const value = c.securityContext?.procMount;
    if (value === undefined || value === 'Default') return false;
    values.add(value);
    return true;
  });
  if (containers.length === 0) return undefined;
  return violation(
    'procMount',
    `${containersPhrase(containers)} must not set securityContext.procMount to ${joinQuote([...values].sort())}`,
  );
}

function seccompBaseline(spec: V1PodSpec): string | undefined {
  const pod = spec.securityContext?.seccompProfile?.type === 'Unconfined';
  const containers = containersWhere(spec, (c) => c.securityContext?.seccompProfile?.type === 'Unconfined');
  if (!pod && containers.length === 0) return undefined;
  return violation(
    'seccompProfile',
    `${settersPhrase(pod, containers)} must not set securityContext.seccompProfile.type to "Unconfined"`,
  );
}

function sysctls(spec: V1PodSpec): string | undefined {
  const bad = (spec.securityContext?.sysctls ?? [])
    .map((sysctl) => sysctl.name)
    .filter((name) => !SAFE_SYSCTLS.has(name));
  if (bad.length === 0) return undefined;
  return violation('forbidden sysctls', bad.join(', '));
}

function probeOrLifecycleHost(spec: V1PodSpec): string | undefined {
  const containers: string[] = [];
  const hosts = new Set<string>();
  const probeHosts = (probe: V1Probe | undefined) => [probe?.httpGet?.host, probe?.tcpSocket?.host];
  for (const container of allContainers(spec)) {
    const found = [
      ...probeHosts(container.livenessProbe),
      ...probeHosts(container.readinessProbe),
      ...probeHosts(container.startupProbe),
      container.lifecycle?.postStart?.httpGet?.host,
      container.lifecycle?.postStart?.tcpSocket?.host,
      container.lifecycle?.preStop?.httpGet?.host,
      container.lifecycle?.preStop?.tcpSocket?.host,
    ].filter((host): host is string => Boolean(host));
    if (found.length === 0) continue;
    containers.push(container.name);
    for (const host of found) hosts.add(host);
  }
  if (containers.length === 0) return undefined;
  return violation(
    'probe or lifecycle host',
    `${containersPhrase(containers)} ${plural('uses', 'use', unique(containers).length)} ${plural('probe or lifecycle host', 'probe or lifecycle hosts', hosts.size)} ${joinQuote([...hosts].sort())}`,
  );
}

// ---- restricted ----

function restrictedVolumes(spec: V1PodSpec): string | undefined {
  const volumes: string[] = [];
  const types = new Set<string>();
  for (const volume of spec.volumes ?? []) {
    const sources = Object.keys(volume).filter(
      (key) => key !== 'name' && (volume as unknown as Record<string, unknown>)[key] != null,
    );
    if (sources.some((source) => RESTRICTED_VOLUME_TYPES.has(source))) continue;
    volumes.push(volume.name);
    types.add(sources[0] ?? 'unknown');
  }
  if (volumes.length === 0) return undefined;
  return violation(
    'restricted volume types',
    `${plural('volume', 'volumes', volumes.length)} ${joinQuote(volumes)} ${plural('uses', 'use', volumes.length)} ${plural('restricted volume type', 'restricted volume types', types.size)} ${joinQuote([...types].sort())}`,
  );
}

function allowPrivilegeEscalation(spec: V1PodSpec): string | undefined {
  const containers = containersWhere(spec, (c) => c.securityContext?.allowPrivilegeEscalation !== false);
  if (containers.length === 0) return undefined;
  return violation(
    'allowPrivilegeEscalation != false',
    `${containersPhrase(containers)} must set securityContext.allowPrivilegeEscalation=false`,
  );
}

function runAsNonRoot(spec: V1PodSpec): string | undefined {
  const podValue = spec.securityContext?.runAsNonRoot;
  const explicitlyFalse = containersWhere(spec, (c) => c.securityContext?.runAsNonRoot === false);
  if (podValue === false || explicitlyFalse.length > 0) {
    return violation(
      'runAsNonRoot != true',
      `${settersPhrase(podValue === false, explicitlyFalse)} must not set securityContext.runAsNonRoot=false`,
    );
  }
  if (podValue === true) return undefined;
  const unset = containersWhere(spec, (c) => c.securityContext?.runAsNonRoot === undefined);
  if (unset.length === 0) return undefined;
  return violation(
    'runAsNonRoot != true',
    `pod or ${containersPhrase(unset)} must set securityContext.runAsNonRoot=true`,
  );
}

function runAsUser(spec: V1PodSpec): string | undefined {
  const pod = spec.securityContext?.runAsUser === 0;
  const containers = containersWhere(spec, (c) => c.securityContext?.runAsUser === 0);
  if (!pod && containers.length === 0) return undefined;
  return violation('runAsUser=0', `${settersPhrase(pod, containers)} must not set runAsUser=0`);
}

function seccompRestricted(spec: V1PodSpec): string | undefined {
  const allowed = (type: string | undefined) => type === 'RuntimeDefault' || type === 'Localhost';
  const badValues = new Set<string>();
  const podProfile = spec.securityContext?.seccompProfile;
  const podBad = podProfile !== undefined && !allowed(podProfile.type);
  if (podBad) badValues.add(podProfile?.type ?? '');
  const podSet = podProfile !== undefined && !podBad;
  const explicitlyBad: string[] = [];
  const implicitlyBad: string[] = [];
  for (const container of allContainers(spec)) {
    const profile = container.securityContext?.seccompProfile;
    if (profile) {
      if (!allowed(profile.type)) {
        explicitlyBad.push(container.name);
        badValues.add(profile.type ?? '');
      }
    } else if (!podSet) {
      implicitlyBad.push(container.name);
    }
  }
  if (podBad || explicitlyBad.length > 0) {
    return violation(
      'seccompProfile',
      `${settersPhrase(podBad, explicitlyBad)} must not set securityContext.seccompProfile.type to ${joinQuote([...badValues].sort())}`,
    );
  }
  if (implicitlyBad.length === 0) return undefined;
  return violation(
    'seccompProfile',
    `pod or ${containersPhrase(implicitlyBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
  );
}

function capabilitiesRestricted(spec: V1PodSpec): string | undefined {
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const forbidden = new Set<string>();
  for (const container of allContainers(spec)) {
    const capabilities = container.securityContext?.capabilities;
    if (!capabilities?.drop?.includes('ALL')) missingDropAll.push(container.name);
    const bad = (capabilities?.add ?? []).filter((capability) => capability !== 'NET_BIND_SERVICE');
    if (bad.length > 0) {
      adding.push(container.name);
      for (const capability of bad) forbidden.add(capability);
    }
  }
  const details: string[] = [];
  if (missingDropAll.length > 0)
    details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length > 0)
    details.push(
      `${containersPhrase(adding)} must not include ${joinQuote([...forbidden].sort())} in securityContext.capabilities.add`,
    );
  if (details.length === 0) return undefined;
  return violation('unrestricted capabilities', details.join('; '));
}
