import { createHash } from 'node:crypto';
import {
  DEFAULT_URL_TEMPLATE,
  substitute,
  type TemplateValues,
  URL_TEMPLATE_SUFFIX,
} from '../repo-config.ts';

/**
 * The preview's host name (pure): the config's `urlTemplate` (default
 * `pr-${{ pr.number }}-${{ repo.name }}.${{ baseDomain }}`) filled in and made a valid DNS name.
 */

const MAX_LABEL = 63;
const MAX_HOST = 253;

export class PreviewHostError extends Error {
  override name = 'PreviewHostError';
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10);

/** A label cut to `max` characters, ending in a hash of the whole so that cut labels stay distinct. */
function shorten(label: string, max: number): string {
  if (label.length <= max) return label;
  const head = label.slice(0, max - 11).replace(/-+$/, '');
  return `${head}-${hashOf(label)}`;
}

/** Lowercase letters, digits and `-` (and `.` where `dots`), no runs or edges of `-`. */
function slug(text: string, dots: boolean): string {
  const cleaned = text.toLowerCase().replace(dots ? /[^a-z0-9.-]+/g : /[^a-z0-9-]+/g, '-');
  return cleaned
    .split('.')
    .map((label) => label.replace(/-{2,}/g, '-').replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '')
    .join('.');
}

/** `values` with every value made fit for the inside of a DNS label, except `baseDomain`, which keeps its dots. */
function sanitized(values: TemplateValues, prefix = ''): TemplateValues {
  const out: Record<string, TemplateValues[string]> = {};
  for (const [key, value] of Object.entries(values)) {
    const path = `${prefix}${key}`;
    out[key] =
      typeof value === 'object' ? sanitized(value, `${path}.`) : slug(String(value), path === 'baseDomain');
  }
  return out;
}

/**
 * The default template, made unique to the repository: where a DNS label cannot spell its owner or
 * name (`shop.js` and `shop-js` both become `shop-js`), a short hash of the full name is added, so
 * two repositories never get one default host. Names a label spells as they are keep the short form.
 */
function defaultTemplateFor(values: TemplateValues): string {
  const repo = typeof values.repo === 'object' ? values.repo : {};
  const [name, owner] = [String(repo.name ?? ''), String(repo.owner ?? '')].map((part) => part.toLowerCase());
  if (slug(name!, false) === name && slug(owner!, false) === owner) return DEFAULT_URL_TEMPLATE;
  const hash = createHash('sha256').update(`${owner}/${name}`).digest('hex').slice(0, 6);
  return DEFAULT_URL_TEMPLATE.replace(URL_TEMPLATE_SUFFIX, `-${hash}${URL_TEMPLATE_SUFFIX}`);
}

/**
 * The host name of a preview: `template` (the default one when undefined) with its placeholders
 * (`pr.number`, `repo.name`, `repo.owner`, `sha`, `baseDomain`) filled in from `values`, lowercased,
 * other characters turned into `-`, each label at most 63 characters and the whole at most 253 (long
 * labels are cut and end in a hash, so two long names stay apart). A dot in a repository name does
 * not make a new label; only the template and `baseDomain` have dots.
 */
export function previewHost(template: string | undefined, values: TemplateValues): string {
  // The config's default is filled in by its schema: the written default is the default too.
  const chosen =
    template === undefined || template === DEFAULT_URL_TEMPLATE ? defaultTemplateFor(values) : template;
  const filled = substitute(chosen, sanitized(values));
  const labels = slug(filled, true)
    .split('.')
    .map((label) => shorten(label, MAX_LABEL));
  if (labels.length === 0 || labels[0] === '')
    throw new PreviewHostError(`the URL template ${JSON.stringify(template)} gives an empty host name`);
  let host = labels.join('.');
  const domain = slug(String(values.baseDomain ?? ''), true);
  // The config check makes every template end in the domain; this holds the filled-in name to it.
  if (!domain || !host.endsWith(`.${domain}`) || host === domain) {
    throw new PreviewHostError(
      `the URL template ${JSON.stringify(template ?? DEFAULT_URL_TEMPLATE)} gives ${host}, which is not a name under the preview domain ${domain}; end the template in .\${{ baseDomain }}`,
    );
  }
  if (host.length > MAX_HOST) {
    const rest = labels.slice(1).join('.');
    const room = MAX_HOST - rest.length - 1;
    if (room < 12)
      throw new PreviewHostError(
        `the preview host name is longer than ${MAX_HOST} characters even with its first label cut (${host}); use a shorter baseDomain or urlTemplate`,
      );
    host = `${shorten(labels[0] ?? '', room)}.${rest}`;
  }
  return host;
}

/** The label value for a preview's host name: its digest (a host can be longer than a label value). */
export function hostLabel(host: string): string {
  return createHash('sha256').update(host.toLowerCase()).digest('hex').slice(0, 40);
}
