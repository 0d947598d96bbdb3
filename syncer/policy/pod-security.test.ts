import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  isPodSecurityLevel,
  type PodSecurityLevel,
  podSecurityMessage,
  podSecurityViolations,
} from './pod-security.ts';

const container = (extra: Partial<V1Container> = {}): V1Container => ({
  name: 'app',
  image: 'nginx',
  ...extra,
});
const pod = (spec: Partial<V1PodSpec> = {}, annotations?: Record<string, string>): V1Pod => ({
  metadata: { name: 'p', namespace: 'default', annotations },
  spec: { containers: [container()], ...spec },
});

/** A pod that passes restricted: everything below changes one thing of it. */
const restrictedContainer = (extra: Partial<V1Container> = {}): V1Container =>
  container({
    ...extra,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      ...extra.securityContext,
    },
  });
const restrictedPod = (spec: Partial<V1PodSpec> = {}): V1Pod =>
  pod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [restrictedContainer()],
    ...spec,
  });

interface Case {
  name: string;
  pod: V1Pod;
  level: PodSecurityLevel;
  violations: string[];
}

const cases: Case[] = [
  // --- allowed ---
  { name: 'a plain pod is baseline', pod: pod(), level: 'baseline', violations: [] },
  {
    name: 'privileged allows anything',
    pod: pod({ hostNetwork: true }),
    level: 'privileged',
    violations: [],
  },
  { name: 'a hardened pod is restricted', pod: restrictedPod(), level: 'restricted', violations: [] },
  {
    name: 'baseline allows default capabilities, safe sysctls, allowed SELinux types and Localhost AppArmor',
    pod: pod(
      {
        containers: [
          container({
            securityContext: {
              capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE', 'SYS_CHROOT'] },
              seLinuxOptions: { type: 'container_init_t', level: 's0:c1,c2' },
              appArmorProfile: { type: 'Localhost', localhostProfile: 'p' },
              procMount: 'Default',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            ports: [{ containerPort: 80, hostPort: 0 }],
          }),
        ],
        securityContext: {
          sysctls: [
            { name: 'net.ipv4.tcp_keepalive_time', value: '60' },
            { name: 'kernel.shm_rmid_forced', value: '1' },
          ],
        },
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
      { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' },
    ),
    level: 'baseline',
    violations: [],
  },

  // --- baseline ---
  {
    name: 'host namespaces',
    pod: pod({ hostNetwork: true, hostPID: true, hostIPC: true }),
    level: 'baseline',
    violations: ['host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)'],
  },
  {
    name: 'privileged containers, init and ephemeral included',
    pod: pod({
      initContainers: [container({ name: 'init', securityContext: { privileged: true } })],
      containers: [container({ securityContext: { privileged: true } }), container({ name: 'ok' })],
      ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }],
    }),
    level: 'baseline',
    violations: [
      'privileged (containers "init", "app", "debug" must not set securityContext.privileged=true)',
    ],
  },
  {
    name: 'capabilities beyond the default set',
    pod: pod({
      containers: [
        container({ securityContext: { capabilities: { add: ['NET_ADMIN', 'CHOWN', 'SYS_ADMIN'] } } }),
      ],
    }),
    level: 'baseline',
    violations: [
      'non-default capabilities (container "app" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)',
    ],
  },
  {
    name: 'hostPath volumes',
    pod: pod({
      volumes: [
        { name: 'root', hostPath: { path: '/' } },
        { name: 'docker', hostPath: { path: '/var/run/docker.sock' } },
        { name: 'cache', emptyDir: {} },
      ],
    }),
    level: 'baseline',
    violations: ['hostPath volumes (volumes "root", "docker")'],
  },
  {
    name: 'host ports',
    pod: pod({
      containers: [
        container({ ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }),
        container({ name: 'b', ports: [{ containerPort: 443, hostPort: 443 }] }),
      ],
    }),
    level: 'baseline',
    violations: ['hostPort (containers "app", "b" use hostPorts 443, 8080)'],
  },
  {
    name: 'AppArmor unconfined, by annotation and by field',
    pod: pod(
      {
        securityContext: { appArmorProfile: { type: 'Unconfined' } },
        containers: [container({ securityContext: { appArmorProfile: { type: 'Unconfined' } } })],
      },
      { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
    ),
    level: 'baseline',
    violations: [
      'forbidden AppArmor profiles (container.apparmor.security.beta.kubernetes.io/app="unconfined", pod must not set securityContext.appArmorProfile.type to "Unconfined", container "app" must not set securityContext.appArmorProfile.type to "Unconfined")',
    ],
  },
  {
    name: 'SELinux type, user and role',
    pod: pod({
      securityContext: { seLinuxOptions: { type: 'spc_t' } },
      containers: [
        container({ securityContext: { seLinuxOptions: { user: 'system_u', role: 'system_r' } } }),
      ],
    }),
    level: 'baseline',
    violations: [
      'seLinuxOptions (pod and container "app" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)',
    ],
  },
  {
    name: 'unmasked /proc',
    pod: pod({ containers: [container({ securityContext: { procMount: 'Unmasked' } })] }),
    level: 'baseline',
    violations: ['procMount (container "app" must not set securityContext.procMount to "Unmasked")'],
  },
  {
    name: 'unmasked /proc is allowed in a user namespace at baseline',
    pod: pod({ hostUsers: false, containers: [container({ securityContext: { procMount: 'Unmasked' } })] }),
    level: 'baseline',
    violations: [],
  },
  {
    name: 'seccomp Unconfined',
    pod: pod({
      securityContext: { seccompProfile: { type: 'Unconfined' } },
      initContainers: [
        container({ name: 'init', securityContext: { seccompProfile: { type: 'Unconfined' } } }),
      ],
    }),
    level: 'baseline',
    violations: [
      'seccompProfile (pod and container "init" must not set securityContext.seccompProfile.type to "Unconfined")',
    ],
  },
  {
    name: 'unsafe sysctls',
    pod: pod({
      securityContext: {
        sysctls: [
          { name: 'net.core.somaxconn', value: '1024' },
          { name: 'net.ipv4.tcp_syncookies', value: '1' },
          { name: 'kernel.msgmax', value: '65536' },
        ],
      },
    }),
    level: 'baseline',
    violations: ['forbidden sysctls (net.core.somaxconn, kernel.msgmax)'],
  },
  {
    name: 'Windows hostProcess',
    pod: pod({
      securityContext: { windowsOptions: { hostProcess: true } },
      containers: [container({ securityContext: { windowsOptions: { hostProcess: true } } })],
    }),
    level: 'baseline',
    violations: [
      'hostProcess (pod and container "app" must not set securityContext.windowsOptions.hostProcess=true)',
    ],
  },
  {
    name: 'probe and lifecycle hosts',
    pod: pod({
      containers: [
        container({
          livenessProbe: { httpGet: { host: '169.254.169.254', port: 80 } },
          lifecycle: { preStop: { tcpSocket: { host: '10.0.0.1', port: 22 } } },
        }),
      ],
    }),
    level: 'baseline',
    violations: [
      'probe or lifecycle host (container "app" uses probe or lifecycle hosts "10.0.0.1", "169.254.169.254")',
    ],
  },
  {
    name: 'several baseline violations at once, one message each',
    pod: pod({
      hostPID: true,
      containers: [container({ securityContext: { privileged: true } })],
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
    }),
    level: 'baseline',
    violations: [
      'host namespaces (hostPID=true)',
      'privileged (container "app" must not set securityContext.privileged=true)',
      'hostPath volumes (volume "root")',
    ],
  },

  // --- restricted ---
  {
    name: 'a plain pod breaks every restricted rule',
    pod: pod(),
    level: 'restricted',
    violations: [
      'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])',
      'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
      'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)',
    ],
  },
  {
    name: 'restricted volume types replace the hostPath check',
    pod: restrictedPod({
      volumes: [
        { name: 'root', hostPath: { path: '/' } },
        { name: 'repo', gitRepo: { repository: 'https://example.com/x.git' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
        { name: 'token', projected: { sources: [] } },
        { name: 'img', image: { reference: 'busybox' } },
      ],
    }),
    level: 'restricted',
    violations: [
      'restricted volume types (volumes "root", "repo" use restricted volume types "gitRepo", "hostPath")',
    ],
  },
  {
    name: 'only NET_BIND_SERVICE may be added',
    pod: restrictedPod({
      containers: [
        restrictedContainer({
          securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'CHOWN'] } },
        }),
      ],
    }),
    level: 'restricted',
    violations: [
      'unrestricted capabilities (container "app" must not include "CHOWN" in securityContext.capabilities.add)',
    ],
  },
  {
    name: 'runAsNonRoot=false and runAsUser=0',
    pod: restrictedPod({
      securityContext: { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [restrictedContainer({ securityContext: { runAsNonRoot: false } })],
    }),
    level: 'restricted',
    violations: [
      'runAsNonRoot != true (container "app" must not set securityContext.runAsNonRoot=false)',
      'runAsUser=0 (pod must not set runAsUser=0)',
    ],
  },
  {
    name: 'container-level runAsNonRoot and seccomp are enough without pod-level ones',
    pod: restrictedPod({
      securityContext: {},
      containers: [
        restrictedContainer({
          securityContext: {
            runAsNonRoot: true,
            seccompProfile: { type: 'Localhost', localhostProfile: 'x' },
          },
        }),
      ],
    }),
    level: 'restricted',
    violations: [],
  },
  {
    name: 'seccomp Unconfined at restricted',
    pod: restrictedPod({
      containers: [restrictedContainer({ securityContext: { seccompProfile: { type: 'Unconfined' } } })],
    }),
    level: 'restricted',
    violations: [
      'seccompProfile (container "app" must not set securityContext.seccompProfile.type to "Unconfined")',
    ],
  },
  {
    name: 'allowPrivilegeEscalation unset in an init container',
    pod: restrictedPod({
      initContainers: [container({ name: 'init', securityContext: { capabilities: { drop: ['ALL'] } } })],
    }),
    level: 'restricted',
    violations: [
      'allowPrivilegeEscalation != false (container "init" must set securityContext.allowPrivilegeEscalation=false)',
    ],
  },
  {
    name: 'a user-namespace pod may run as uid 0 without runAsNonRoot',
    pod: restrictedPod({
      hostUsers: false,
      securityContext: { runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
    }),
    level: 'restricted',
    violations: [],
  },
  {
    name: 'restricted still refuses unmasked /proc in a user namespace',
    pod: restrictedPod({
      hostUsers: false,
      containers: [restrictedContainer({ securityContext: { procMount: 'Unmasked' } })],
    }),
    level: 'restricted',
    violations: ['procMount (container "app" must not set securityContext.procMount to "Unmasked")'],
  },
  {
    name: 'Windows pods are exempt from the Linux-only restricted checks',
    pod: pod({
      os: { name: 'windows' },
      securityContext: { runAsNonRoot: true },
    }),
    level: 'restricted',
    violations: [],
  },
  {
    name: 'restricted includes baseline',
    pod: restrictedPod({ hostNetwork: true }),
    level: 'restricted',
    violations: ['host namespaces (hostNetwork=true)'],
  },
];

describe('podSecurityViolations', () => {
  it.each(cases)('$level: $name', ({ pod, level, violations }) => {
    expect(podSecurityViolations(pod, level)).toEqual(violations);
  });

  it('restricted finds at least what baseline finds for a privileged pod', () => {
    const bad = pod({ containers: [container({ securityContext: { privileged: true } })] });
    expect(podSecurityViolations(bad, 'restricted')).toContain(
      'privileged (container "app" must not set securityContext.privileged=true)',
    );
  });

  it('tolerates a pod without a spec', () => {
    expect(podSecurityViolations({ metadata: { name: 'x' } }, 'restricted')).toEqual([]);
  });
});

describe('podSecurityMessage and isPodSecurityLevel', () => {
  it('joins violations like the admission plugin', () => {
    expect(
      podSecurityMessage('baseline', ['host namespaces (hostPID=true)', 'hostPath volumes (volume "x")']),
    ).toBe(
      'violates PodSecurity "baseline:latest": host namespaces (hostPID=true), hostPath volumes (volume "x")',
    );
  });

  it('knows the three levels and nothing else', () => {
    expect(['privileged', 'baseline', 'restricted'].every(isPodSecurityLevel)).toBe(true);
    expect(isPodSecurityLevel('Baseline')).toBe(false);
    expect(isPodSecurityLevel(undefined)).toBe(false);
  });
});
