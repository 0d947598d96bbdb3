// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ … }}` is GitHub Actions' expression syntax, shown in a workflow.
import { describe, expect, it } from 'vitest';
import {
  COMMAND_NAMES,
  type Command,
  helpText,
  inlineCode,
  keepWish,
  kubeconfigAnswer,
  type PermissionLevel,
  parseCommand,
  permissionAllows,
  requiredPermission,
} from './commands.ts';

describe('parseCommand', () => {
  it.each<[string, string, Command | undefined]>([
    ['reset', '/vcluster reset', { kind: 'reset', args: [] }],
    ['redeploy', '/vcluster redeploy', { kind: 'redeploy', args: [] }],
    ['destroy', '/vcluster destroy', { kind: 'destroy', args: [] }],
    ['pause', '/vcluster pause', { kind: 'pause', args: [] }],
    ['resume', '/vcluster resume', { kind: 'resume', args: [] }],
    ['keep', '/vcluster keep', { kind: 'keep', args: [] }],
    ['keep off', '/vcluster keep off', { kind: 'keep', args: ['off'] }],
    ['status', '/vcluster status', { kind: 'status', args: [] }],
    ['kubeconfig', '/vcluster kubeconfig', { kind: 'kubeconfig', args: [] }],
    ['help', '/vcluster help', { kind: 'help', args: [] }],
    ['approve with a sha', '/vcluster approve abc1234', { kind: 'approve', args: ['abc1234'] }],
    [
      'arguments split on any spaces',
      '/vcluster  redeploy   now\tplease ',
      { kind: 'redeploy', args: ['now', 'please'] },
    ],
    ['a bare /vcluster asks for help', '/vcluster', { kind: 'help', args: [] }],
    ['case and a full stop', '/VCluster Reset.', { kind: 'reset', args: [] }],
    ['up to three spaces of indent', '   /vcluster pause', { kind: 'pause', args: [] }],
    ['an unknown command', '/vcluster deploy now', { kind: 'unknown', text: 'deploy now' }],
    [
      'in the middle of a comment',
      'Looks good.\r\n\r\n/vcluster reset\r\nthanks',
      { kind: 'reset', args: [] },
    ],
    ['the first of several', '/vcluster pause\n/vcluster destroy', { kind: 'pause', args: [] }],
    ['the first even when unknown', '/vcluster nuke\n/vcluster destroy', { kind: 'unknown', text: 'nuke' }],
    ['no command', 'LGTM, ship it', undefined],
    ['an empty comment', '', undefined],
    ['not at the start of the line', 'please run /vcluster reset', undefined],
    ['another word glued on', '/vclusters reset\n/vcluster-preview reset', undefined],
    ['inline code', '`/vcluster reset`', undefined],
    ['a list item', '- /vcluster reset', undefined],
    ['a quote', '> /vcluster destroy\n\nwhy would you do that?', undefined],
    ['a nested quote', '> > /vcluster destroy', undefined],
    ['indented as code', '    /vcluster destroy', undefined],
    ['a code fence', '```\n/vcluster destroy\n```', undefined],
    ['a tilde fence with an info string', '~~~sh\n/vcluster destroy\n~~~', undefined],
    ['an unclosed fence', 'see:\n```\n/vcluster destroy', undefined],
    [
      'a fence closed by a longer one',
      '```\n/vcluster destroy\n`````\n/vcluster status',
      { kind: 'status', args: [] },
    ],
    ['a fence not closed by a shorter one', '````\n```\n/vcluster destroy\n````', undefined],
    [
      'a fence not closed by the other character',
      '```\n~~~\n/vcluster destroy\n```\n/vcluster help',
      { kind: 'help', args: [] },
    ],
    ['an HTML comment', '<!--\n/vcluster destroy\n-->\n/vcluster status', { kind: 'status', args: [] }],
    ['a one-line HTML comment', '<!-- /vcluster destroy -->', undefined],
    [
      'the command after a quote of another',
      '> /vcluster destroy\n/vcluster reset',
      { kind: 'reset', args: [] },
    ],
  ])('%s', (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it('does not read the help text it posts as commands', () => {
    expect(parseCommand(helpText())).toBe(undefined);
  });
});

describe('helpText', () => {
  const help = helpText();

  it('lists every command once, as a markdown list with a description', () => {
    const lines = help.split('\n');
    expect(lines).toHaveLength(COMMAND_NAMES.length);
    for (const [index, name] of COMMAND_NAMES.entries()) {
      expect(lines[index]).toMatch(new RegExp(`^- \`/vcluster ${name}\` — \\w`));
    }
  });

  it('says who may run what', () => {
    expect(help).toContain('`/vcluster status` — refresh the state of the preview in this comment (anyone)');
    expect(help).toContain('`/vcluster help` — show this list (anyone)');
    expect(help).not.toMatch(/reset.*\(anyone\)/);
  });
});

describe('keepWish', () => {
  it.each<[string[], 'on' | 'off' | undefined]>([
    [[], 'on'],
    [['on'], 'on'],
    [['off'], 'off'],
    [['OFF.'], 'off'],
    [['forever'], undefined],
    [['off', 'please'], undefined],
  ])('%j is %s', (args, wish) => {
    expect(keepWish(args)).toBe(wish);
  });
});

describe('requiredPermission', () => {
  it.each<[Command | Command['kind'], PermissionLevel]>([
    ['reset', 'write'],
    ['redeploy', 'write'],
    ['destroy', 'write'],
    ['pause', 'write'],
    ['resume', 'write'],
    ['approve', 'write'],
    ['kubeconfig', 'write'],
    ['keep', 'write'],
    [{ kind: 'keep', args: ['off'] }, 'write'],
    ['status', 'none'],
    ['help', 'none'],
    [{ kind: 'unknown', text: 'x' }, 'none'],
    [{ kind: 'destroy', args: [] }, 'write'],
  ])('%j needs %s', (command, level) => {
    expect(requiredPermission(command as Parameters<typeof requiredPermission>[0])).toBe(level);
  });
});

describe('kubeconfigAnswer', () => {
  it("shows the Action's steps with this service's address, and holds no credential", () => {
    const answer = kubeconfigAnswer('octocat', 'https://previews.example.com');
    expect(answer).toMatch(/^@octocat, a kubeconfig is never posted on a pull request/);
    expect(answer).toContain('      service-url: https://previews.example.com\n      kubeconfig: true');
    expect(answer).toContain('KUBECONFIG: ${{ steps.preview.outputs.kubeconfig-path }}');
    expect(answer).not.toMatch(/^\s*token:|client-key|certificate-authority-data|BEGIN/m);
  });

  it('names a placeholder when the service has no public address', () => {
    expect(kubeconfigAnswer('octocat', undefined)).toContain('service-url: https://<this service>');
  });
});

describe('permissionAllows', () => {
  const levels: PermissionLevel[] = ['admin', 'maintain', 'write', 'triage', 'read', 'none'];

  it.each(levels)('%s may run status and help', (level) => {
    expect(permissionAllows(level, 'none')).toBe(true);
  });

  it.each<[PermissionLevel, boolean]>([
    ['admin', true],
    ['maintain', true],
    ['write', true],
    ['triage', false],
    ['read', false],
    ['none', false],
  ])('%s may run write commands: %s', (level, allowed) => {
    expect(permissionAllows(level, 'write')).toBe(allowed);
  });

  it('orders maintain above write and below admin', () => {
    expect(permissionAllows('maintain', 'admin')).toBe(false);
    expect(permissionAllows('write', 'maintain')).toBe(false);
    expect(permissionAllows('admin', 'maintain')).toBe(true);
  });
});

describe('inlineCode', () => {
  it.each([
    ['/vcluster frobnicate', '`/vcluster frobnicate`'],
    // Backticks inside cannot close the span: a longer fence, and a space where it touches one.
    ['/vcluster `x` ![t](https://evil.example/p.png)', '``/vcluster `x` ![t](https://evil.example/p.png)``'],
    ['/vcluster ``@everyone', '```/vcluster ``@everyone```'],
    ['`/vcluster`', '`` `/vcluster` ``'],
    ['/vcluster a\nb', '`/vcluster a b`'],
    [`/vcluster ${'x'.repeat(100)}`, `\`/vcluster ${'x'.repeat(69)}…\``],
  ])('%j → %s', (text, span) => {
    expect(inlineCode(text)).toBe(span);
  });
});
