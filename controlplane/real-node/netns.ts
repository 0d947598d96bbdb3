import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../process.ts';
import { MAX_REAL_NODES, type RealNodeAddresses, realNodeAddresses } from './addresses.ts';

const exec = promisify(execFile);

export class RealNodeError extends Error {
  override name = 'RealNodeError';
}

/** Runs a command; its stderr becomes the error message. */
export async function run(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new RealNodeError(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/** Machine-wide record of which slots are taken, and by whom (pid and folder). */
const slotsDir = '/run/vcluster-preview/real-node';

interface SlotOwner {
  pid: number;
  root: string;
}

/**
 * Takes the first free slot. A slot whose owner died is cleaned (its namespace, its mounts, its
 * processes) and taken over, so a crash leaks nothing for long.
 */
export async function claimSlot(root: string, cleanStale: (slot: number, owner: SlotOwner) => Promise<void>) {
  await mkdir(slotsDir, { recursive: true });
  for (let slot = 0; slot < MAX_REAL_NODES; slot++) {
    const dir = join(slotsDir, String(slot));
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readOwner(dir);
      if (owner && isAlive(owner.pid)) continue;
      if (owner) await cleanStale(slot, owner);
      await rm(dir, { recursive: true, force: true });
      try {
        await mkdir(dir);
      } catch {
        continue; // another process took it meanwhile
      }
    }
    await writeFile(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, root } satisfies SlotOwner));
    return { addresses: realNodeAddresses(slot), release: () => rm(dir, { recursive: true, force: true }) };
  }
  throw new RealNodeError(
    `all ${MAX_REAL_NODES} real node slots of this machine are in use (see ${slotsDir}); stop one with \`vcluster-preview host down\``,
  );
}

async function readOwner(dir: string): Promise<SlotOwner | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as SlotOwner;
  } catch {
    return undefined;
  }
}

/**
 * The node's network namespace and the veth pair that joins it to this machine, with routes from
 * the machine to the node's pods and Service addresses. No default route inside: pods reach this
 * machine and nothing beyond it.
 */
export async function createNetwork(a: RealNodeAddresses): Promise<void> {
  await deleteNetwork(a);
  await run('ip', ['netns', 'add', a.netns]);
  await run('ip', [
    'link',
    'add',
    a.hostInterface,
    'type',
    'veth',
    'peer',
    'name',
    a.nodeInterface,
    'netns',
    a.netns,
  ]);
  await run('ip', ['addr', 'add', `${a.hostIP}/30`, 'dev', a.hostInterface]);
  await run('ip', ['link', 'set', a.hostInterface, 'up']);
  await run('ip', ['-n', a.netns, 'addr', 'add', `${a.nodeIP}/30`, 'dev', a.nodeInterface]);
  await run('ip', ['-n', a.netns, 'link', 'set', a.nodeInterface, 'up']);
  await run('ip', ['-n', a.netns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['route', 'add', a.podCIDR, 'via', a.nodeIP, 'dev', a.hostInterface]);
  await run('ip', ['route', 'add', a.serviceCIDR, 'via', a.nodeIP, 'dev', a.hostInterface]);
}

/** Removes the namespace (with the bridge and every veth in it) and the machine's end of the pair. */
export async function deleteNetwork(a: RealNodeAddresses): Promise<void> {
  if (existsSync(`/run/netns/${a.netns}`)) await run('ip', ['netns', 'del', a.netns]);
  // Deleting the namespace deletes the pair; a pair whose namespace is gone already is removed here.
  await exec('ip', ['link', 'del', a.hostInterface]).catch(() => {});
  if (existsSync(`/run/netns/${a.netns}`))
    throw new RealNodeError(`network namespace ${a.netns} is still there`);
  await unmountEmptyNetnsDir();
}

/**
 * `ip netns add` makes `/run/netns` a mount point of its own the first time; the last node to go
 * takes that mount away again. A namespace still mounted below it (another node's) makes umount
 * fail, which is as it should be.
 */
async function unmountEmptyNetnsDir(): Promise<void> {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === '/run/netns');
  if (!mounted || readdirSync('/run/netns').length > 0) return;
  await exec('umount', ['/run/netns']).catch(() => {});
}

/** The namespace's file, for `nsenter --net=`. */
export const netnsPath = (a: RealNodeAddresses) => `/run/netns/${a.netns}`;
