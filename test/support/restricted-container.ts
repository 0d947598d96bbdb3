/** A container that passes Pod Security `restricted` (the previews' default), so only what a test fences is at issue. */
export const restrictedContainer = {
  name: 'c',
  image: 'busybox',
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    runAsUser: 65534,
    seccompProfile: { type: 'RuntimeDefault' },
  },
};
