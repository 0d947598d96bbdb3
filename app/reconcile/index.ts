export { downloadPath, type RepoAt, readRepoFile } from '../github/repo-files.ts';
export { previewAnnotations, previewLabels, REPO_ANNOTATION, repoLabel } from '../preview-metadata.ts';
export { type AppSource, asBadConfig, type ReadAppOptions, readApp } from './app-source.ts';
export { stickyCommentUrl } from './log-url.ts';
export {
  createReconciler,
  type ReconcileJobContext,
  type ReconcileOutcome,
  type Reconciler,
  type ReconcilerDeps,
} from './reconciler.ts';
