import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options that send a patch body as a JSON merge patch (RFC 7386). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
