import { describe, expect, it } from 'vitest';
import { resolveVariables, UndeclaredVariableError } from './resolve-variables.ts';

describe('resolveVariables', () => {
  it.each<[string, Record<string, string>, Record<string, string> | undefined, Record<string, string>]>([
    ['the defaults when the workflow set nothing', { image: 'shop:main' }, undefined, { image: 'shop:main' }],
    [
      'the workflow’s value over the default',
      { image: 'shop:main', tier: 'small' },
      { image: 'ghcr.io/acme/shop:abc' },
      { image: 'ghcr.io/acme/shop:abc', tier: 'small' },
    ],
    ['an empty value the workflow set', { image: 'shop:main' }, { image: '' }, { image: '' }],
    ['nothing declared, nothing set', {}, {}, {}],
  ])('gives %s', (_name, declared, given, expected) => {
    expect(resolveVariables(declared, given)).toEqual(expected);
  });

  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    [
      'one undeclared name',
      { image: 'x' },
      { image: 'y', imgae: 'z' },
      'the workflow set variable imgae, which .github/vcluster-preview.yml does not declare under variables: (it declares image)',
    ],
    [
      'names when nothing is declared',
      {},
      { tag: 'b', image: 'a' },
      'the workflow set variables image, tag, which .github/vcluster-preview.yml does not declare under variables:',
    ],
    [
      'a name that is a property of every object',
      {},
      { constructor: 'x' },
      'the workflow set variable constructor, which .github/vcluster-preview.yml does not declare under variables:',
    ],
  ])('refuses %s', (_name, declared, given, message) => {
    expect(() => resolveVariables(declared, given)).toThrow(UndeclaredVariableError);
    expect(() => resolveVariables(declared, given)).toThrow(message);
  });
});
