import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { variablesSchema } from '../../preview/index.ts';
import type { DesiredState } from '../desired-state.ts';

/**
 * What one preview job carries. The job is read back from Redis, which other versions of this
 * service (or a person with redis-cli) may have written, so it is checked on the way out too.
 */

const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'expected a commit id (7 to 64 hexadecimal characters)');

/** The workflow's values travel in the job: held to the same rules as the API's, also when read back. */
const variables = variablesSchema.optional();

export const desiredStateSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('up'), sha, variables }),
  z.object({ kind: z.literal('down') }),
  z.object({ kind: z.literal('reset'), sha, variables }),
  z.object({ kind: z.literal('redeploy'), sha, variables }),
  z.object({ kind: z.literal('pause') }),
  z.object({ kind: z.literal('resume') }),
  z.object({ kind: z.literal('skip'), reason: z.string() }),
  z.object({ kind: z.literal('await-approval'), sha }),
]);

/**
 * Why the service itself asked for this desired state (the sweeper; the waker, `request`), for the sticky comment. An
 * `orphaned` preview has no pull request left to comment on, so nothing is reported for it.
 */
export const jobReasonSchema = z.object({
  kind: z.enum(['closed', 'orphaned', 'idle', 'expired', 'request']),
  /** One phrase for people: `idle for 1h: paused`, `past its ttl of 7d`. */
  text: z.string().min(1).max(200),
});

export type JobReason = z.infer<typeof jobReasonSchema>;

export const previewJobSchema = z.object({
  /** `owner/name`, as GitHub spells it. */
  repo: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, 'expected owner/name, as in the repository URL'),
  pr: z.number().int().positive(),
  desired: desiredStateSchema,
  installationId: z.number().int().positive().optional(),
  /** GitHub login of whoever asked (pusher, commenter). */
  requestedBy: z.string().min(1).optional(),
  /** `X-GitHub-Delivery` of the webhook that asked, to follow one request through the logs. */
  deliveryId: z.string().min(1).optional(),
  reason: jobReasonSchema.optional(),
});

export type PreviewJob = z.infer<typeof previewJobSchema>;

// The schema and the union in desired-state.ts must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesDesiredState: Same<z.infer<typeof desiredStateSchema>, DesiredState> = true;
void schemaMatchesDesiredState;

/** BullMQ job name of every preview job (what it must do is in its data). */
export const PREVIEW_JOB_NAME = 'preview';

/** One line per problem: `desired.sha: expected a commit id …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(job data)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The payload of a job read back from the queue. A malformed one cannot get better by retrying, so
 * it fails the job at once, with what was wrong as the job's failed reason.
 */
export function parsePreviewJob(data: unknown, jobId?: string): PreviewJob {
  const parsed = previewJobSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new UnrecoverableError(
    `malformed preview job${jobId ? ` ${jobId}` : ''}: ${describeIssues(parsed.error)} (it was not enqueued by PreviewQueue.enqueue; enqueue it again from the pull request)`,
  );
}
