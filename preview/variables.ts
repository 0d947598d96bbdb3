import { z } from 'zod';

/**
 * Placeholder variables, `${{ variables.NAME }}`: the repo config declares each name with a default
 * value, and a workflow (the Action, after its own build step) may set them for one deploy. The
 * values come from a pull request's workflow, so they are held to short single lines here, in the
 * one place the config, the API and the queue take their rules from.
 */

/** Lowercase, so `${{ variables.image }}` reads one way; no `.`, which would nest the placeholder. */
export const VARIABLE_NAME = /^[a-z][a-z0-9_]*$/;
export const MAX_VARIABLES = 20;
export const MAX_VARIABLE_LENGTH = 1024;

/** A value as it may reach a manifest: one line (no control characters) of at most 1024 characters. */
export const variableValue = z
  .string({ error: 'must be a string' })
  .max(MAX_VARIABLE_LENGTH)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'has a line break or another control character');

export const variableName = z
  .string()
  .max(64, 'is longer than 64 characters')
  .regex(VARIABLE_NAME, 'is not a variable name (lowercase letters, digits and _, starting with a letter)');

/** `{ NAME: value }` with at most MAX_VARIABLES names. */
export const variablesSchema = z
  .record(variableName, variableValue, {
    error: 'must be a mapping of names to values, like {"image": "ghcr.io/acme/shop:abc123"}',
  })
  .refine((variables) => Object.keys(variables).length <= MAX_VARIABLES, {
    message: `has more than ${MAX_VARIABLES} names`,
  })
  // The count, for editors: a refinement does not reach the JSON Schema.
  .meta({ maxProperties: MAX_VARIABLES });
