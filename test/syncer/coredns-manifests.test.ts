import { fileURLToPath } from 'node:url';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { COREDNS_MANIFESTS_KEY, coreDnsManifests, parseManifests } from '../../syncer/coredns.ts';
import { runBinary } from '../support/kubectl.ts';

const chart = fileURLToPath(new URL('../../charts/vcluster', import.meta.url));

/**
 * The local provider runs the same CoreDNS in a virtual cluster as the `vcluster` chart does: the
 * objects `coreDnsManifests()` makes are those the chart renders into its CoreDNS ConfigMap with its
 * default values, so the two providers' virtual clusters resolve names alike.
 */
describe('CoreDNS of a local virtual cluster', () => {
  it('is the chart’s CoreDNS with its default values', async () => {
    const rendered = parseAllDocuments(
      await runBinary('helm', [
        'template',
        'demo',
        chart,
        '--namespace',
        'vc-demo',
        '--set',
        'serviceCIDR=10.96.0.0/16',
      ]),
    )
      .map((document) => document.toJS() as V1ConfigMap | null)
      .find((object) => object?.kind === 'ConfigMap' && object.metadata?.name === 'demo-coredns');
    const fromChart = parseManifests(rendered?.data?.[COREDNS_MANIFESTS_KEY] ?? '');
    expect(fromChart.length).toBeGreaterThan(0);
    // Compared as JSON: the chart's YAML and our objects, key order aside.
    const normal = (value: unknown) => JSON.parse(JSON.stringify(value));
    expect(normal(coreDnsManifests())).toEqual(normal(fromChart));
  });
});
