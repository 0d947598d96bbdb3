import { describe, expect, it } from 'vitest';
import * as translate from './index.ts';

describe('index', () => {
  it.each([
    'safeConcatName',
    'hostName',
    'hostMetadata',
    'isManagedBy',
    'virtualKeyOf',
    'podToHost',
    'podUpdateToHost',
    'podStatusToVirtual',
    'podReferences',
    'serviceToHost',
    'needsEndpointsSync',
    'serviceRefusal',
    'serviceTypeChange',
    'endpointsToHost',
    'endpointsRefusal',
    'configMapToHost',
    'secretToHost',
    'pvcToHost',
    'ingressToHost',
    'ingressHostViolations',
    'eventToVirtual',
    'fakeNode',
  ])('exports %s', (name) => {
    expect(typeof (translate as Record<string, unknown>)[name]).toBe('function');
  });
});
