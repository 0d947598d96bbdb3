// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type { V1Secret } from '@kubernetes/client-node';
import * as x509 from '@peculiar/x509';
import { createClusterCertificates, issueCertificate, type PemPair } from '../controlplane/certs.ts';
import { renderKubeconfig } from '../controlplane/kubeconfig.ts';

x509.cryptoProvider.set(webcrypto as never);

/**
 * The pure part of `vcluster-preview pki` (see charts/vcluster/README.md, "The pki contract"):
 * which names the serving certificate needs, whether the stored certificates can be used as they are,
 * new leaf certificates from the stored CA, and the Secret and files that hold them.
 */

/** Every key of the Secret and every file written to --dir. */
export const pkiFiles = [
  'ca.crt',
  'ca.key',
  'apiserver.crt',
  'apiserver.key',
  'admin.crt',
  'admin.key',
  'sa.key',
  'sa.pub',
  'admin.kubeconfig',
] as const;
export type PkiFile = (typeof pkiFiles)[number];
export type PkiData = Record<PkiFile, string>;

/** Server of admin.kubeconfig: the API server in the same pod. */
export const adminKubeconfigServer = 'https://127.0.0.1:8443';
export const adminSubject = 'CN=kubernetes-admin, O=system:masters';
/** Leaf certificates are made again when they expire within this many days. */
export const renewBeforeDays = 30;
const caDays = 3650;
const leafDays = 365;
const dayMs = 24 * 60 * 60 * 1000;

/** Canonical text of an IP address (IPv6 compressed, lower case), or undefined if it is not one. */
export function canonicalIP(value: string): string | undefined {
  const bare = value.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family === 6) return new URL(`http://[${bare}]/`).hostname.replace(/^\[|\]$/g, '');
  return undefined;
}

export interface SubjectNames {
  dns: string[];
  ips: string[];
}

/** The serving certificate's names: `--hosts` (comma-separated) plus the Service's ClusterIPs, sorted and unique. */
export function requestedNames(hosts: string | string[], serviceIPs: string[] = []): SubjectNames {
  const entries = (Array.isArray(hosts) ? hosts : hosts.split(','))
    .concat(serviceIPs)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0 && entry !== 'None');
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const entry of entries) {
    const ip = canonicalIP(entry);
    if (ip) ips.add(ip);
    else dns.add(entry.toLowerCase());
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

/** The DNS and IP names of a certificate's subjectAltName extension. */
export function certificateNames(pem: string): SubjectNames {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const name of san?.names.items ?? []) {
    if (name.type === 'dns') dns.add(name.value.toLowerCase());
    if (name.type === 'ip') ips.add(canonicalIP(name.value) ?? name.value);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

const sameNames = (a: SubjectNames, b: SubjectNames) =>
  a.dns.join(',') === b.dns.join(',') && a.ips.join(',') === b.ips.join(',');

export type PkiPlan =
  /** Nothing stored: make everything and create the Secret. */
  | { action: 'create' }
  /** The stored certificates fit: write them as they are. */
  | { action: 'reuse' }
  /** Same CA and service-account keys, new serving and admin certificates; update the Secret. */
  | { action: 'reissue'; reasons: string[] }
  /** The stored CA or service-account keys are unusable: make everything again; update the Secret. */
  | { action: 'regenerate'; reasons: string[] };

/** Decodes a Secret's data; keys that are not ours are dropped. */
export function secretData(secret: V1Secret | undefined): Partial<PkiData> | undefined {
  if (!secret) return undefined;
  const data: Partial<PkiData> = {};
  for (const key of pkiFiles) {
    const value = secret.data?.[key];
    if (value) data[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return data;
}

function parse(pem: string | undefined): x509.X509Certificate | undefined {
  if (!pem) return undefined;
  try {
    return new x509.X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * What to do with what the Secret holds. The CA and the service-account key pair are kept whenever they
 * are there (tokens and client certificates issued by them stay valid); the serving and admin
 * certificates are made again when they are missing, not signed by the CA, about to expire, or (the
 * serving one) valid for other names than requested.
 */
export async function planPki(
  stored: Partial<PkiData> | undefined,
  requested: SubjectNames,
  now = new Date(),
): Promise<PkiPlan> {
  if (!stored) return { action: 'create' };
  const ca = parse(stored['ca.crt']);
  const broken: string[] = [];
  if (!ca || !stored['ca.key']) broken.push('the CA certificate or key is missing or unreadable');
  if (!stored['sa.key'] || !stored['sa.pub']) broken.push('the service-account key pair is missing');
  if (broken.length > 0) return { action: 'regenerate', reasons: broken };

  const reasons: string[] = [];
  const renewBy = new Date(now.getTime() + renewBeforeDays * dayMs);
  for (const [file, what] of [
    ['apiserver.crt', 'serving certificate'],
    ['admin.crt', 'admin certificate'],
  ] as const) {
    const keyFile = file === 'apiserver.crt' ? 'apiserver.key' : 'admin.key';
    const cert = parse(stored[file]);
    if (!cert || !stored[keyFile]) {
      reasons.push(`the ${what} is missing`);
      continue;
    }
    if (cert.notAfter <= renewBy) reasons.push(`the ${what} expires on ${cert.notAfter.toISOString()}`);
    const signed = await cert.verify({ publicKey: ca!.publicKey, signatureOnly: true }).catch(() => false);
    if (!signed) reasons.push(`the ${what} is not signed by the stored CA`);
  }
  if (stored['apiserver.crt'] && parse(stored['apiserver.crt'])) {
    const actual = certificateNames(stored['apiserver.crt']);
    if (!sameNames(actual, requested)) {
      reasons.push(
        `the serving certificate is for ${[...actual.dns, ...actual.ips].join(',')}, not ${[...requested.dns, ...requested.ips].join(',')}`,
      );
    }
  }
  if (!stored['admin.kubeconfig']) reasons.push('admin.kubeconfig is missing');
  return reasons.length > 0 ? { action: 'reissue', reasons } : { action: 'reuse' };
}

/** A serving certificate for `names` and the admin client certificate, both signed by `ca` (1 year). */
export async function issueLeafCertificates(
  ca: PemPair,
  names: SubjectNames,
  now = new Date(),
): Promise<{ serving: PemPair; admin: PemPair }> {
  // Back-dated a little so a clock a few seconds behind still accepts it.
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(notBefore.getTime() + leafDays * dayMs);
  const issue = (subject: string, usage: string, names: x509.JsonGeneralName[]) =>
    issueCertificate(ca, { subject, usage, names, notBefore, notAfter });
  const serving = await issue('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    ...names.dns.map((value) => ({ type: 'dns' as const, value })),
    ...names.ips.map((value) => ({ type: 'ip' as const, value })),
  ]);
  const admin = await issue(adminSubject, x509.ExtendedKeyUsage.clientAuth, []);
  return { serving, admin };
}

function assemble(
  ca: PemPair,
  serviceAccount: { privateKey: string; publicKey: string },
  leaves: { serving: PemPair; admin: PemPair },
  clusterName: string,
): PkiData {
  return {
    'ca.crt': ca.cert,
    'ca.key': ca.key,
    'apiserver.crt': leaves.serving.cert,
    'apiserver.key': leaves.serving.key,
    'admin.crt': leaves.admin.cert,
    'admin.key': leaves.admin.key,
    'sa.key': serviceAccount.privateKey,
    'sa.pub': serviceAccount.publicKey,
    'admin.kubeconfig': renderKubeconfig({
      name: clusterName,
      server: adminKubeconfigServer,
      caCert: ca.cert,
      clientCert: leaves.admin.cert,
      clientKey: leaves.admin.key,
    }),
  };
}

/**
 * Carries out a plan: new everything (CA 10 years, leaves 1 year), new leaves from the stored CA, or
 * what is stored. `clusterName` names the cluster, user and context of admin.kubeconfig.
 */
export async function materialize(
  plan: PkiPlan,
  stored: Partial<PkiData> | undefined,
  names: SubjectNames,
  clusterName: string,
  now = new Date(),
): Promise<PkiData> {
  if (plan.action === 'reuse') return stored as PkiData;
  if (plan.action === 'reissue') {
    const ca = { cert: stored!['ca.crt']!, key: stored!['ca.key']! };
    const leaves = await issueLeafCertificates(ca, names, now);
    return assemble(
      ca,
      { privateKey: stored!['sa.key']!, publicKey: stored!['sa.pub']! },
      leaves,
      clusterName,
    );
  }
  // The CA and the service-account keys come from the control plane's own generator; the leaves
  // are made here so that their names, subject and lifetime follow the pki contract.
  const fresh = await createClusterCertificates({ days: caDays });
  const leaves = await issueLeafCertificates(fresh.ca, names, now);
  return assemble(fresh.ca, fresh.serviceAccount, leaves, clusterName);
}

/** The release a pki Secret belongs to: `vc-<release>-pki`, else the --service name. */
export function releaseOf(secretName: string, service?: string): string | undefined {
  return /^vc-(.+)-pki$/.exec(secretName)?.[1] ?? service;
}

/** The Secret that keeps the certificates (type Opaque, labels app: vcluster and release). */
export function buildPkiSecret(input: {
  name: string;
  namespace: string;
  release?: string;
  data: PkiData;
  resourceVersion?: string;
}): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { app: 'vcluster', ...(input.release ? { release: input.release } : {}) },
      ...(input.resourceVersion ? { resourceVersion: input.resourceVersion } : {}),
    },
    data: Object.fromEntries(pkiFiles.map((key) => [key, Buffer.from(input.data[key]).toString('base64')])),
  };
}
