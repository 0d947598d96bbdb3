import { z } from 'zod';
import { variablesSchema } from '../../preview/index.ts';
import { ApiError } from './api-error.ts';

/** What `POST /api/v1/previews` may ask of a pull request's preview. */
export const API_ACTIONS = ['up', 'down', 'reset', 'redeploy', 'pause', 'resume'] as const;
export type ApiAction = (typeof API_ACTIONS)[number];

const schema = z.strictObject(
  {
    pullRequest: z
      .number({
        error: (issue) =>
          issue.input === undefined
            ? 'is required: the pull request number, like 12'
            : 'must be the pull request number, like 12',
      })
      .int('must be a whole number, like 12')
      .positive('must be a positive pull request number, like 12'),
    action: z.enum(API_ACTIONS, { error: `must be one of ${API_ACTIONS.join(', ')}` }).default('up'),
    sha: z
      .string({ error: 'must be a string: the full 40-character commit id' })
      .regex(/^[0-9a-f]{40}$/i, 'must be a full commit id (40 hexadecimal characters)')
      .transform((sha) => sha.toLowerCase())
      .optional(),
    /**
     * Values for `${{ variables.NAME }}` (the image the workflow just built); used by up, redeploy
     * and reset, ignored by the others, so one step can serve a workflow's every event.
     */
    variables: variablesSchema.optional(),
  },
  { error: 'must be a JSON object like {"pullRequest": 12, "action": "up"}' },
);

export type PreviewRequest = z.infer<typeof schema>;

const MAX_NAME_SHOWN = 64;

const EXAMPLE =
  '{"pullRequest": 12, "action": "up", "sha": "<40 hex>", "variables": {"image": "ghcr.io/acme/shop:<sha>"}}';

/** The request body, checked; a 400 `ApiError` names every field that is wrong. */
export function parsePreviewRequest(body: unknown): PreviewRequest {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.join(', ')}`;
    // Keys are the caller's (variables' names): quoted only as far as a name may be long.
    const field =
      issue.path.length > 0
        ? issue.path.map((part) => String(part).slice(0, MAX_NAME_SHOWN)).join('.')
        : 'body';
    // A bad name's own message is inside the key issue.
    if (issue.code === 'invalid_key') return `${field} ${issue.issues[0]?.message ?? issue.message}`;
    if (issue.code === 'too_big' && issue.origin === 'string')
      return `${field} is longer than ${issue.maximum} characters`;
    return `${field} ${issue.message}`;
  });
  throw new ApiError(400, `invalid request: ${problems.join('; ')}`, `send JSON like ${EXAMPLE}`);
}
