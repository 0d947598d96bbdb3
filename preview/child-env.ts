/**
 * The environment of a child process that reads what a pull request wrote (`helm template` of its
 * chart) or runs helm against the host (pure): where to find programs and a home of its own, and
 * nothing else of ours. The service's own environment holds the App's private key, the webhook
 * secret and the Redis URL; none of it is a child's business. Proxy settings pass, as the operator's
 * network may need them to reach the API server.
 */
const PASSED = ['LANG', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

export function childEnv(
  home: string,
  extra: Record<string, string> = {},
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    PATH: parent.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: home,
    ...Object.fromEntries(PASSED.flatMap((name) => (parent[name] ? [[name, parent[name]]] : []))),
    ...extra,
  };
}
