import { describe, expect, it } from 'vitest';
import { checkTreeName, defaultTreeName, treePreviewRef, treeVersion } from './tree-name.ts';

describe('defaultTreeName', () => {
  it.each([
    ['/src/hello', 'hello'],
    ['/src/Hello_World', 'hello-world'],
    ['./examples/my..app/', 'my-app'],
    ['/src/--x--', 'x'],
    ['/src/___', 'tree'],
    [`/src/${'a'.repeat(60)}`, 'a'.repeat(40)],
  ])('%s → %s', (dir, name) => {
    expect(defaultTreeName(dir)).toBe(name);
    expect(checkTreeName(defaultTreeName(dir))).toBe(name);
  });
});

describe('checkTreeName', () => {
  it.each(['Hello', '-x', 'x-', 'a_b', '', 'a'.repeat(41)])('refuses %j, saying what to use', (name) => {
    expect(() => checkTreeName(name)).toThrow(/use lowercase letters, digits and '-', at most 40 characters/);
  });
});

describe('treePreviewRef', () => {
  it('keeps trees apart from pull requests', () => {
    expect(treePreviewRef('hello')).toEqual({ name: 'tree-hello', namespace: 'preview-tree-hello' });
  });
});

describe('treeVersion', () => {
  it.each([
    [{ commit: 'abc1234def', changed: false }, 'abc1234def'],
    [{ commit: 'abc1234def', changed: true }, 'abc1234def-dirty'],
    [{ changed: true }, 'local'],
    [undefined, 'local'],
  ])('%j → %s', (git, version) => {
    expect(treeVersion(git)).toBe(version);
  });
});
