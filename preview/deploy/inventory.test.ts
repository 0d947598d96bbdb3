import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  applyPhases,
  INVENTORY_NAME,
  INVENTORY_NAMESPACE,
  inventoryConfigMap,
  inventoryOf,
  refsOfInventory,
  toPrune,
} from './inventory.ts';
import { describeRef, identityOf, type ObjectRef } from './objects.ts';

const object = (apiVersion: string, kind: string, name: string, namespace?: string): KubernetesObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
});

describe('inventory', () => {
  it('lists each object once, namespaces and CRDs first', () => {
    const refs = inventoryOf([
      object('apps/v1', 'Deployment', 'web', 'default'),
      object('v1', 'Namespace', 'shop'),
      object('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
      object('v1', 'ConfigMap', 'web', 'default'),
      object('apps/v1', 'Deployment', 'web', 'default'),
    ]);
    expect(refs.map(describeRef)).toEqual([
      'Namespace shop',
      'CustomResourceDefinition widgets.example.com',
      'ConfigMap default/web',
      'Deployment default/web',
    ]);
  });

  it('prunes what is gone, also when its kind changed, not when only its API version did', () => {
    const previous: ObjectRef[] = [
      { apiVersion: 'v1', kind: 'Namespace', name: 'old' },
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'db' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'keep' },
      { apiVersion: 'example.com/v1beta1', kind: 'Widget', namespace: 'default', name: 'w' },
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'gone.example.com' },
      { apiVersion: 'v1', kind: 'Secret', namespace: 'old', name: 's' },
    ];
    const current = inventoryOf([
      object('apps/v1', 'StatefulSet', 'db', 'default'),
      object('v1', 'ConfigMap', 'keep', 'default'),
      object('example.com/v1', 'Widget', 'w', 'default'),
    ]);
    expect(toPrune(previous, current).map(describeRef)).toEqual([
      'Deployment default/db',
      'Secret old/s',
      'CustomResourceDefinition gone.example.com',
      'Namespace old',
    ]);
    expect(toPrune([], current)).toEqual([]);
    expect(toPrune(current, current)).toEqual([]);
  });

  it('groups objects in apply phases, keeping their order inside a phase', () => {
    const phases = applyPhases([
      object('v1', 'ConfigMap', 'b', 'shop'),
      object('v1', 'Namespace', 'shop'),
      object('v1', 'Service', 'a', 'shop'),
      object('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'x.example.com'),
    ]);
    expect(phases.map((phase) => phase.map((o) => o.metadata?.name))).toEqual([
      ['shop'],
      ['x.example.com'],
      ['b', 'a'],
    ]);
    expect(applyPhases([object('v1', 'ConfigMap', 'b', 'shop')])).toHaveLength(1);
  });

  it('round-trips through its ConfigMap', () => {
    const refs = inventoryOf([object('v1', 'Namespace', 'shop'), object('v1', 'ConfigMap', 'c', 'shop')]);
    const configMap = inventoryConfigMap(refs, 'abc123');
    expect(configMap.metadata).toMatchObject({
      name: INVENTORY_NAME,
      namespace: INVENTORY_NAMESPACE,
      annotations: { 'vcluster-preview.dev/commit': 'abc123' },
    });
    expect(refsOfInventory(configMap)).toEqual(refs);
    expect(refsOfInventory(inventoryConfigMap([]))).toEqual([]);
    expect(refsOfInventory(undefined)).toEqual([]);
    expect(refsOfInventory({ data: { 'objects.json': 'not json' } })).toEqual([]);
    expect(refsOfInventory({ data: { 'objects.json': '[{"kind":"X"}, 1]' } })).toEqual([]);
  });

  it('identity ignores the API version but not the group', () => {
    const ref = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', namespace: 'default' };
    expect(identityOf(ref)).toBe(identityOf({ ...ref, apiVersion: 'example.com/v2' }));
    expect(identityOf(ref)).not.toBe(identityOf({ ...ref, apiVersion: 'other.com/v1' }));
  });
});
