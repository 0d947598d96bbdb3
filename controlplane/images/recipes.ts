/**
 * The images the embedded host serves from its local registry, each built on this machine from
 * local files (no pull, no container engine). They carry their upstream names so that manifests
 * written for real clusters run unchanged. Pure: what goes in each image, not how it is built.
 */
export interface ImageFile {
  /** Path inside the image. */
  path: string;
  /**
   * A file of this machine (binaries also bring the shared libraries `ldd` names) ...: `@bin/NAME`
   * is a binary of the control-plane cache, `@debian/PATH` a file of the recipe's Debian packages.
   */
  from?: string;
  /** ... or this content ... */
  content?: string;
  /** ... or a symbolic link to this target. */
  link?: string;
  /** Octal mode (default 0644, or 0755 for `binary`). */
  mode?: number;
  binary?: boolean;
}

export interface ImageRecipe {
  /** Upstream names, e.g. `docker.io/nginxinc/nginx-unprivileged:1.27`. */
  refs: string[];
  /** Debian packages whose files the recipe takes (downloaded and unpacked, never installed). */
  debianPackages?: string[];
  files: ImageFile[];
  /** Empty folders (mode 1777 for `/tmp`-like ones). */
  dirs?: { path: string; mode: number }[];
  config: {
    entrypoint: string[];
    cmd?: string[];
    user?: string;
    workdir?: string;
    env?: string[];
    exposedPorts?: string[];
  };
}

const etcFiles = (user: { name: string; uid: number } | undefined): ImageFile[] => [
  {
    path: '/etc/passwd',
    content: `root:x:0:0:root:/root:/sbin/nologin\n${user ? `${user.name}:x:${user.uid}:${user.uid}:${user.name}:/nonexistent:/sbin/nologin\n` : ''}nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`,
  },
  {
    path: '/etc/group',
    content: `root:x:0:\n${user ? `${user.name}:x:${user.uid}:\n` : ''}nogroup:x:65534:\n`,
  },
  { path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
];

/** nginx as the official images run it: logs to the container's output, the default page. */
function nginxRecipe(
  refs: string[],
  options: { port: number; user?: { name: string; uid: number } },
): ImageRecipe {
  const unpacked = (path: string) => `@debian/${path}`;
  const nginxConf = `worker_processes 1;
error_log /dev/stderr notice;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/stdout;
  sendfile on;
  keepalive_timeout 65;
  client_body_temp_path /tmp/client_temp;
  proxy_temp_path /tmp/proxy_temp;
  fastcgi_temp_path /tmp/fastcgi_temp;
  uwsgi_temp_path /tmp/uwsgi_temp;
  scgi_temp_path /tmp/scgi_temp;
  include /etc/nginx/conf.d/*.conf;
}
`;
  const server = `server {
  listen ${options.port};
  server_name localhost;
  location / {
    root /usr/share/nginx/html;
    index index.html;
  }
}
`;
  return {
    refs,
    debianPackages: ['nginx', 'nginx-common'],
    files: [
      { path: '/usr/sbin/nginx', from: unpacked('usr/sbin/nginx'), binary: true },
      { path: '/etc/nginx/mime.types', from: unpacked('etc/nginx/mime.types') },
      { path: '/etc/nginx/nginx.conf', content: nginxConf },
      { path: '/etc/nginx/conf.d/default.conf', content: server },
      {
        path: '/usr/share/nginx/html/index.html',
        content: '<!doctype html>\n<title>Welcome to nginx!</title>\n<h1>Welcome to nginx!</h1>\n',
      },
      ...etcFiles(options.user),
    ],
    dirs: [
      { path: '/tmp', mode: 0o1777 },
      { path: '/var/cache/nginx', mode: 0o1777 },
    ],
    config: {
      entrypoint: ['/usr/sbin/nginx'],
      cmd: ['-g', 'daemon off;'],
      ...(options.user ? { user: String(options.user.uid) } : {}),
      exposedPorts: [`${options.port}/tcp`],
    },
  };
}

export const imageRecipes: ImageRecipe[] = [
  {
    refs: ['registry.k8s.io/pause:3.10'],
    files: [{ path: '/pause', from: '@bin/pause', binary: true }],
    config: { entrypoint: ['/pause'], user: '65535' },
  },
  nginxRecipe(
    ['docker.io/nginxinc/nginx-unprivileged:1.27', 'docker.io/nginxinc/nginx-unprivileged:latest'],
    {
      port: 8080,
      user: { name: 'nginx', uid: 101 },
    },
  ),
  nginxRecipe(['docker.io/library/nginx:1.27', 'docker.io/library/nginx:latest'], { port: 80 }),
  {
    refs: ['registry.k8s.io/coredns/coredns:v1.12.1'],
    files: [{ path: '/coredns', from: '@bin/coredns', binary: true }, ...etcFiles(undefined)],
    config: { entrypoint: ['/coredns'], user: '65532', exposedPorts: ['53/tcp', '53/udp'] },
  },
  {
    // The service chart's bundled Redis. Debian ships one binary that acts by the name it runs as.
    refs: ['docker.io/library/redis:7.0'],
    debianPackages: ['redis-tools'],
    files: [
      { path: '/usr/local/bin/redis-server', from: '@debian/usr/bin/redis-check-rdb', binary: true },
      ...etcFiles({ name: 'redis', uid: 999 }),
    ],
    dirs: [
      { path: '/tmp', mode: 0o1777 },
      { path: '/data', mode: 0o777 },
    ],
    config: {
      entrypoint: ['/usr/local/bin/redis-server'],
      user: '999',
      workdir: '/data',
      exposedPorts: ['6379/tcp'],
    },
  },
  {
    refs: ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest'],
    debianPackages: ['busybox-static'],
    files: [
      { path: '/bin/busybox', from: '@debian/bin/busybox', binary: true },
      ...[
        'sh',
        'nc',
        'wget',
        'cat',
        'echo',
        'sleep',
        'ls',
        'hostname',
        'env',
        'httpd',
        'nslookup',
        'true',
      ].map((applet) => ({ path: `/bin/${applet}`, link: '/bin/busybox' })),
      ...etcFiles(undefined),
    ],
    dirs: [{ path: '/tmp', mode: 0o1777 }],
    config: { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin'] },
  },
];

/** An upstream name as the local registry stores it: `<registry>/<repository>:<tag>`. */
export function localRepository(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  const [name, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
  const first = name.split('/')[0]!;
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const qualified = hasRegistry ? name : `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return { repository: qualified, tag };
}
