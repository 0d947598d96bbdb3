import { substitute, type TemplateValues } from '../repo-config.ts';

/** `value` with placeholders filled in in every string inside it (pure; throws a SubstitutionError). */
export function substituteDeep(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') return substitute(value, values);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, values));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteDeep(item, values)]),
    );
  return value;
}
