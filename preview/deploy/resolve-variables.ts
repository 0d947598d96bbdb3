import { REPO_CONFIG_PATH } from '../repo-config.ts';

/** A workflow set a variable the repo config does not declare: the author fixes one or the other. */
export class UndeclaredVariableError extends Error {
  override name = 'UndeclaredVariableError';
  constructor(
    readonly undeclared: string[],
    readonly declared: string[],
  ) {
    const names = undeclared.join(', ');
    super(
      `the workflow set variable${undeclared.length > 1 ? 's' : ''} ${names}, which ${REPO_CONFIG_PATH} does not declare under variables:${declared.length > 0 ? ` (it declares ${declared.join(', ')})` : ''}`,
    );
  }
}

/**
 * The values of `${{ variables.NAME }}`: each declared name's default, overridden by what the
 * workflow set (pure). Only declared names may be set, so a workflow cannot add placeholders the
 * config does not know of; a typo in either place is reported, not silently left at its default.
 */
export function resolveVariables(
  declared: Readonly<Record<string, string>>,
  given: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const undeclared = Object.keys(given).filter((name) => !Object.hasOwn(declared, name));
  if (undeclared.length > 0) throw new UndeclaredVariableError(undeclared.sort(), Object.keys(declared));
  return { ...declared, ...given };
}
