import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { findBinaries, freePort, isAlive, pidsMentioning, startCluster } from '../../controlplane/index.ts';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { openThroughIngress } from '../support/ingress.ts';

/** The machine's interfaces but other real nodes' ends of their veth pairs (other runs may start or stop them). */
const interfaces = (own: string) =>
  execFileSync('ip', ['-o', 'link', 'show'])
    .toString()
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0])
    .filter((name): name is string => !!name && (!name.startsWith('vcp-node-') || name === own))
    .sort();
const machineRules = () =>
  ['iptables-save', 'ip6tables-save']
    .map((tool) =>
      execFileSync(tool)
        .toString()
        .split('\n')
        .filter((l) => !l.startsWith('#') && !l.startsWith(':'))
        .join('\n'),
    )
    .join('\n');
/** The machine's nftables tables (the policy engine's own, `kube-network-policies`, is never among them). */
const machineTables = () => execFileSync('nft', ['list', 'tables']).toString();
/** What the NetworkPolicy engine installs in the node's namespace: its hooks and the queues it reads. */
const engineInNode = (netns: string) => ({
  hooks: execFileSync('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'mangle'])
    .toString()
    .split('\n')
    .filter((line) => line.includes('VCP-NETWORK-POLICY')).length,
  queues: execFileSync('ip', ['netns', 'exec', netns, 'cat', '/proc/net/netfilter/nfnetlink_queue'])
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter(Boolean)
    .sort(),
});
const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(dir));

/**
 * A real node of its own (beside the run's shared one), with a running pod and its volume, then stopped: no
 * process, mount, network namespace, interface or iptables rule of it may be left on the machine.
 */
describe('stopping a real node', () => {
  it('leaves no process, mount, network namespace, interface or iptables rule behind (the NetworkPolicy engine’s neither)', async () => {
    const rulesBefore = machineRules();
    const tablesBefore = machineTables();
    const binaries = (await findBinaries())!;
    const cluster = await startCluster({
      mode: 'host',
      name: 'stop-test',
      nodes: 0,
      binaries,
      realNode: { ingressListen: `127.0.0.1:${await freePort()}` },
    });
    const dir = cluster.dir;
    const node = cluster.realNode!;
    const interfacesBefore = interfaces(node.addresses.hostInterface).filter(
      (n) => n !== node.addresses.hostInterface,
    );
    const host = kubeClients(cluster.kubeconfig);
    try {
      // With a volume of the default StorageClass: its folder is the node's too.
      await host.core.createNamespacedPersistentVolumeClaim({
        namespace: 'default',
        body: {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      });
      await host.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name: 'sleeper' },
          spec: {
            containers: [
              {
                name: 'sleep',
                image: 'busybox',
                command: ['sh', '-c', 'echo kept > /data/note && sleep 3600'],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          },
        },
      });
      await waitUntil(
        async () =>
          (await host.core.readNamespacedPod({ name: 'sleeper', namespace: 'default' })).status?.phase ===
          'Running',
        { what: 'the pod to run', timeoutMs: 60_000 },
      );
      // While it runs, the node has its namespace, its end of the veth pair and mounts.
      expect(existsSync(`/run/netns/${node.addresses.netns}`)).toBe(true);
      expect(interfaces(node.addresses.hostInterface)).toContain(node.addresses.hostInterface);
      expect(mountsUnder(dir).length).toBeGreaterThan(0);
      const claim = await host.core.readNamespacedPersistentVolumeClaim({
        name: 'data',
        namespace: 'default',
      });
      const volume = await host.core.readPersistentVolume({ name: claim.spec!.volumeName! });
      expect(volume.spec?.hostPath?.path.startsWith(`${dir}/`)).toBe(true);
      expect(readFileSync(join(volume.spec!.hostPath!.path, 'note'), 'utf8')).toBe('kept\n');
      // The NetworkPolicy engine runs, with its hooks (the chain, its three rules, the jumps from
      // FORWARD and INPUT) and both of its queues, in the node's namespace only.
      expect(isAlive(node.processes.find((p) => p.name === 'netpol')?.pid)).toBe(true);
      expect(engineInNode(node.addresses.netns)).toEqual({ hooks: 6, queues: ['100', '101'] });
      expect(machineRules()).not.toContain('VCP-NETWORK-POLICY');
    } finally {
      await cluster.stop();
    }
    expect(pidsMentioning(dir)).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
    expect(existsSync(`/run/netns/${node.addresses.netns}`)).toBe(false);
    expect(readdirSync('/run/netns').filter((n) => n === node.addresses.netns)).toEqual([]);
    expect(interfaces(node.addresses.hostInterface)).toEqual(interfacesBefore);
    expect(machineRules()).toBe(rulesBefore);
    expect(machineTables()).toBe(tablesBefore);
    // The engine's process is gone, and its hooks with the namespace that held them.
    expect(isAlive(node.processes.find((p) => p.name === 'netpol')?.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // The run's shared real node, in another slot, still serves.
    expect((await openThroughIngress('http://nobody.preview.localhost/', inject('ingressUrl'))).status).toBe(
      404,
    );
  });
});
