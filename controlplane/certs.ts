// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// ECDSA P-256 like envtest: fast to generate and accepted by every Kubernetes component.
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface PemPair {
  cert: string;
  key: string;
}

/** Everything a cluster's components need to trust each other and its admin. */
export interface ClusterCertificates {
  ca: PemPair;
  serving: PemPair;
  admin: PemPair;
  /** Service-account token signer (its own key, as envtest does). */
  serviceAccount: { publicKey: string; privateKey: string };
}

export interface CertificateOptions {
  /** Extra names the API server's serving certificate is valid for. */
  hosts?: string[];
  /** Validity in days. */
  days?: number;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function publicKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Back-date a little so a clock a few seconds behind still accepts the certificate.
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 24 * 60 * 60 * 1000) };
}

export interface CertificateRequest {
  /** Distinguished name, e.g. `CN=admin, O=system:masters`. */
  subject: string;
  /** Extended key usage, e.g. `x509.ExtendedKeyUsage.serverAuth`. */
  usage: string;
  /** Subject alternative names. */
  names?: x509.JsonGeneralName[];
  notBefore: Date;
  notAfter: Date;
}

/** A new key and a leaf certificate for it, signed by the CA (the one way certificates are issued here). */
export async function issueCertificate(ca: PemPair, request: CertificateRequest): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.key),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([request.usage]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (request.names?.length) extensions.push(new x509.SubjectAlternativeNameExtension(request.names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: request.subject,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: algorithm,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** A self-signed CA plus a serving certificate, an admin client certificate and a service-account key. */
export async function createClusterCertificates(
  options: CertificateOptions = {},
): Promise<ClusterCertificates> {
  const days = options.days ?? 365;
  const caKeys = await newKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=vcluster-preview-ca',
    keys: caKeys,
    signingAlgorithm: algorithm,
    ...validity(days),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const caPem = { cert: caCert.toString('pem'), key: await privateKeyPem(caKeys.privateKey) };
  const issue = (subject: string, usage: string, names: x509.JsonGeneralName[] = []) =>
    issueCertificate(caPem, { subject, usage, names, ...validity(days) });

  const hostNames = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    ...(options.hosts ?? []),
  ];
  const ips = ['127.0.0.1', '::1'];
  const serving = await issue('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    ...hostNames.filter((h) => !/^[\d.:]+$/.test(h)).map((value) => ({ type: 'dns' as const, value })),
    ...[...ips, ...hostNames.filter((h) => /^[\d.:]+$/.test(h))].map((value) => ({
      type: 'ip' as const,
      value,
    })),
  ]);
  // O=system:masters makes this certificate cluster-admin regardless of RBAC objects.
  const admin = await issue('CN=admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);
  const saKeys = await newKeys();
  return {
    ca: caPem,
    serving,
    admin,
    serviceAccount: {
      publicKey: await publicKeyPem(saKeys.publicKey),
      privateKey: await privateKeyPem(saKeys.privateKey),
    },
  };
}
