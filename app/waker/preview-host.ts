/**
 * The preview host name a request asks for, from its Host header, when it is one under the preview
 * domain (`pr-12-shop.preview.example.com`); undefined for any other host (the service's own).
 */
export function previewHostOf(hostHeader: string | undefined, baseDomain: string): string | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const domain = baseDomain.toLowerCase().replace(/^\./, '');
  if (!host.endsWith(`.${domain}`)) return undefined;
  const label = host.slice(0, -domain.length - 1);
  // One DNS label or more in front of the domain, as preview hosts are.
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(label) ? host : undefined;
}
