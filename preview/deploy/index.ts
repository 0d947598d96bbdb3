export { APP_LIMITS, checkConfigSize, checkObjectCount, fileBudget } from './app-limits.ts';
export {
  DeployError,
  type DeployFailure,
  type DeployOptions,
  type DeployResult,
  deployApp,
  readInventory,
} from './apply.ts';
export { AUTHOR_FIX_HINTS, type AuthorFix, authorFix } from './author-error.ts';
export {
  DEFAULT_URL_STYLE,
  type ExposeOptions,
  exposePreview,
  PREVIEW_INGRESS_NAME,
  type PreviewUrlStyle,
  previewIngress,
  previewUrl,
} from './expose.ts';
export {
  COPIED_FROM_ANNOTATION,
  copyHostSecrets,
  type HostSecretCopy,
  HostSecretError,
} from './host-secrets.ts';
export { INVENTORY_NAME, INVENTORY_NAMESPACE, inventoryOf, toPrune } from './inventory.ts';
export { checkKustomization, type FetchPath, type KustomizeOptions, kustomizeBuild } from './kustomize.ts';
export {
  COMMIT_ANNOTATION,
  describeRef,
  FIELD_MANAGER,
  MANAGED_LABEL,
  type ObjectRef,
  refOf,
  SOURCE_ANNOTATION,
} from './objects.ts';
export { type PreviewApp, type PreviewIdentity, renderPreviewApp } from './preview-app.ts';
export {
  ManifestError,
  type ManifestFile,
  type ManifestProblem,
  type RenderConfig,
  renderManifests,
} from './render.ts';
export { type RollOutOptions, rollOutApp } from './roll-out.ts';
export { RolloutError, type RolloutOptions, waitForRollout } from './rollout.ts';
export type { RolloutFailure } from './rollout-report.ts';
export { type RolloutStatus, rolloutStatus } from './rollout-status.ts';
export {
  type HelmTemplateOptions,
  helmTemplate,
  type RenderAppOptions,
  readManifestFiles,
  renderApp,
} from './sources.ts';
export { hostLabel, PreviewHostError, previewHost } from './url.ts';
