import type { Redis } from 'ioredis';
import type { VirtualClusterInfo } from '../../preview/provider.ts';
import { type DesiredState, jobIdFor } from '../desired-state.ts';
import { WaitingForSlotError } from '../errors/waiting-for-slot-error.ts';
import { readPreviewMetadata } from '../preview-metadata.ts';
import { type RedisHandle, redisConnection } from '../queue/redis-connection.ts';
import { needsSlot, type PreviewLimits } from './preview-cap.ts';
import { decideInLine, type LineEntry } from './slot-line.ts';

export interface PreviewSlotsOptions {
  /** `redis://…` URL (a client is opened and closed here) or an ioredis client (the caller's to close). */
  connection: string | Redis;
  limits: PreviewLimits;
  /** What exists: the provider's `list()` on the host cluster (the source of truth). */
  listPreviews(): Promise<VirtualClusterInfo[]>;
  /** Start of the Redis keys, e.g. `bull:previews:slots`; give each queue its own. */
  keyPrefix?: string;
  /** How soon a waiting job asks again; default 30 s. */
  retryAfterMs?: number;
  /**
   * A waiting pull request not heard of for this long has no job left (removed by hand, failed) and
   * leaves the line; default 5 min. A pull request let through counts as live for this long, until
   * its virtual cluster shows in the host cluster.
   */
  staleAfterMs?: number;
  now?: () => number;
}

export interface SlotRequest {
  repo: string;
  pr: number;
  installationId?: number;
  desired: DesiredState['kind'];
  /** This pull request's preview is live already (updating it takes no new slot). */
  hasLivePreview: boolean;
}

/**
 * The global cap of live previews, in total and per installation. Live previews are counted from the
 * host cluster's labels; the pull requests waiting for a slot stand in a Redis sorted set scored by
 * when each first waited (ZADD NX), so each keeps its place across retries and the slots go out in
 * that order. A pull request leaves the line when it gets its slot or its preview goes down.
 */
export class PreviewSlots {
  private readonly redis: RedisHandle;
  private readonly prefix: string;
  private readonly retryAfterMs: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PreviewSlotsOptions) {
    this.redis = redisConnection(options.connection);
    this.prefix = options.keyPrefix ?? 'vcluster-preview:slots';
    this.retryAfterMs = options.retryAfterMs ?? 30_000;
    this.staleAfterMs = options.staleAfterMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether any limit is set; without one, `claim` never waits. */
  get limited(): boolean {
    return this.options.limits.total !== undefined || this.options.limits.perInstallation !== undefined;
  }

  /**
   * Returns when this pull request may start its preview (and takes the slot); throws
   * `WaitingForSlotError` with its place in line when it must wait.
   */
  async claim(request: SlotRequest): Promise<void> {
    const key = jobIdFor(request.repo, request.pr);
    // What needs no new slot (an update of a live preview, a pause) never stands in line.
    if (!this.limited || !needsSlot(request.desired, request.hasLivePreview)) return;

    const now = this.now();
    const member = `${request.installationId ?? 0}:${key}`;
    const client = this.redis.client;
    // One snapshot of the line and of who was just let through, so two workers agree on who starts.
    const reply = await client
      .multi()
      .zadd(this.key('line'), 'NX', now, member)
      .zadd(this.key('seen'), now, member)
      .zremrangebyscore(this.key('starting'), '-inf', now - this.staleAfterMs)
      .zrangebyscore(this.key('seen'), '-inf', now - this.staleAfterMs)
      .zrange(this.key('line'), 0, -1)
      .zrangebyscore(this.key('starting'), now - this.staleAfterMs, '+inf')
      .hget(this.key('place'), member)
      .exec();
    if (!reply) throw new Error('the preview slot line could not be read (Redis transaction aborted)');
    const [stale, line, starting, told] = reply.slice(3).map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as [string[], string[], string[], string | null];
    if (stale.length > 0) await this.forget(stale);
    const gone = new Set(stale);

    const { live, liveByInstallation } = await this.countLive(starting.map(parseMember));
    const decision = decideInLine({
      line: line.filter((entry) => !gone.has(entry)).map(parseMember),
      me: parseMember(member),
      live,
      liveByInstallation,
      limits: this.options.limits,
    });
    if (!decision.wait) {
      await client
        .multi()
        .zrem(this.key('line'), member)
        .zrem(this.key('seen'), member)
        .hdel(this.key('place'), member)
        .zadd(this.key('starting'), now, member)
        .exec();
      return;
    }
    await client.hset(this.key('place'), member, String(decision.place));
    throw new WaitingForSlotError(
      decision.place,
      decision.message,
      this.retryAfterMs,
      told !== String(decision.place),
    );
  }

  /** This pull request's preview is going (closed, destroyed): out of the line and its slot free. */
  async release(repo: string, pr: number, installationId?: number): Promise<void> {
    await this.forget([`${installationId ?? 0}:${jobIdFor(repo, pr)}`]);
  }

  async close(): Promise<void> {
    await this.redis.release();
  }

  private async forget(members: string[]): Promise<void> {
    await this.redis.client
      .multi()
      .zrem(this.key('line'), ...members)
      .zrem(this.key('seen'), ...members)
      .zrem(this.key('starting'), ...members)
      .hdel(this.key('place'), ...members)
      .exec();
  }

  /**
   * Previews that are not paused, plus those let through whose virtual cluster is not made yet. Once
   * its namespace exists the host cluster alone says whether one is live (a paused one is not).
   */
  private async countLive(starting: LineEntry[]) {
    const live = new Map<string, number | undefined>();
    const existing = new Set<string>();
    for (const info of await this.options.listPreviews()) {
      const metadata = readPreviewMetadata(info);
      if (!metadata) continue;
      const key = jobIdFor(metadata.repo, metadata.pr);
      existing.add(key);
      if (info.state !== 'paused') live.set(key, metadata.installationId);
    }
    for (const entry of starting) if (!existing.has(entry.key)) live.set(entry.key, entry.installationId);
    const liveByInstallation = new Map<number | undefined, number>();
    for (const installation of live.values()) {
      liveByInstallation.set(installation, (liveByInstallation.get(installation) ?? 0) + 1);
    }
    return { live: live.size, liveByInstallation };
  }

  private key(part: string): string {
    return `${this.prefix}:${part}`;
  }
}

/** `<installation>:<pull request key>`; 0 when the installation is not known. */
function parseMember(member: string): LineEntry {
  const split = member.indexOf(':');
  const installationId = Number(member.slice(0, split));
  return { key: member.slice(split + 1), ...(installationId > 0 ? { installationId } : {}) };
}
