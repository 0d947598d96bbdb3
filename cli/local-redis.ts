import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess } from '../controlplane/index.ts';

export interface LocalRedis {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /** Durable (AOF) for the demo; tests use neither RDB nor AOF. */
  appendOnly?: boolean;
  /** Data folder; default a temporary folder removed by stop(). */
  dir?: string;
}

export class LocalRedisError extends Error {
  override name = 'LocalRedisError';
}

/** Installs Debian's redis-server when it is not on this machine. */
export function ensureRedisServer(report: (message: string) => void = () => {}): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  report('installing redis-server (apt-get)…');
  try {
    execFileSync(
      'sh',
      ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'],
      {
        stdio: 'inherit',
      },
    );
  } catch {
    throw new LocalRedisError(
      'redis-server is not installed and apt-get could not install it; install it or set REDIS_URL',
    );
  }
  return '/usr/bin/redis-server';
}

/** Starts a private redis-server on a free loopback port, with the settings BullMQ needs. */
export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const binary = ensureRedisServer();
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'vcp-redis-')));
  const port = await freePort();
  const child = new ManagedProcess({
    name: 'redis-server',
    command: binary,
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      options.appendOnly ? 'yes' : 'no',
      // BullMQ loses jobs if Redis evicts keys.
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
    ],
    logFile: join(dir, 'redis.log'),
  });
  const stop = async () => {
    await child.stop();
    if (!options.dir) await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (child.hasExited || Date.now() > deadline) {
      const log = child.logTail();
      await stop();
      throw new LocalRedisError(`redis-server did not start on port ${port}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
