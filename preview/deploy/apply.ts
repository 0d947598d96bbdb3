import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { ApplyError, applyObject, objectPath, rawRequest } from '../../kube/apply.ts';
import { ignoreNotFound, type KubeClients, messageOf, statusCodeOf } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import {
  applyPhases,
  INVENTORY_NAME,
  INVENTORY_NAMESPACE,
  inventoryConfigMap,
  inventoryOf,
  refsOfInventory,
  toPrune,
  uniqueRefs,
} from './inventory.ts';
import {
  describeRef,
  FIELD_MANAGER,
  groupOf,
  MANAGED_LABEL,
  type ObjectRef,
  phaseOf,
  refOf,
} from './objects.ts';
import { deleteAndWait } from './replace-object.ts';

/**
 * Deploying rendered objects into a virtual cluster: server-side apply (namespaces, then CRDs once
 * established, then the rest), then pruning what the last deploy applied and this one does not. The
 * inventory is written before applying (old and new together) and after pruning (new only), so a
 * deploy that dies at any point leaves nothing the next one cannot find.
 */

export interface DeployOptions {
  /** The virtual cluster. */
  virtual: KubeClients;
  /** Rendered objects (`renderManifests`). */
  objects: KubernetesObject[];
  /** What the last deploy applied; read from the inventory ConfigMap in the virtual cluster when not given. */
  previous?: ObjectRef[];
  /** The commit being deployed, noted on the inventory. */
  commit?: string;
  /** Objects applied at once within a phase (default 8). */
  concurrency?: number;
  /** How long CRDs may take to become established (default 30 s). */
  crdTimeoutMs?: number;
  /** Progress messages. */
  report?: (message: string) => void;
  /**
   * Runs once namespaces and CRDs are applied, before the rest of the objects: the `pre-*` hooks,
   * which may live in a namespace the app makes or use its CRDs.
   */
  beforeWorkloads?: () => Promise<void>;
}

export interface DeployResult {
  /** The objects as the API server returned them. */
  applied: KubernetesObject[];
  /** What is deployed now (also written to the inventory ConfigMap). */
  inventory: ObjectRef[];
  /** What was deleted because it is no longer rendered. */
  pruned: ObjectRef[];
  /** Listed in the last inventory but left alone: no longer labelled as ours. */
  skipped: ObjectRef[];
}

export interface DeployFailure {
  ref: ObjectRef;
  message: string;
  /** The API server's HTTP status, when it answered: 4xx means the manifest itself is wrong. */
  status?: number;
}

/** Objects the API server refused; `message` names each with the reason it gave. */
/** etcd's answer once a virtual cluster's store reached its space quota (the operator's store limit). */
const STORE_FULL = /database space exceeded/;
const STORE_FULL_HINT =
  "The preview's virtual cluster is full: its store reached the space the operator allows each preview, and it takes no more writes. Delete objects the preview does not need (or write fewer), then comment `/vcluster reset` to start again empty.";

export class DeployError extends Error {
  override name = 'DeployError';
  /** The virtual cluster's store is full: a retry gets the same answer. */
  get storeFull(): boolean {
    return this.failures.some((failure) => STORE_FULL.test(failure.message));
  }
  constructor(
    readonly failures: DeployFailure[],
    readonly action: 'apply' | 'prune' = 'apply',
  ) {
    super(
      `${action === 'apply' ? 'could not apply' : 'could not prune'} ${failures.length} object${failures.length > 1 ? 's' : ''}:\n${failures
        .map((failure) => `  ${describeRef(failure.ref)}: ${failure.message}`)
        .join(
          '\n',
        )}${failures.some((failure) => STORE_FULL.test(failure.message)) ? `\n${STORE_FULL_HINT}` : ''}`,
    );
  }
}

/** What the last deploy into this virtual cluster applied (nothing before the first). */
export async function readInventory(virtual: KubeClients): Promise<ObjectRef[]> {
  let configMap: V1ConfigMap | undefined;
  try {
    configMap = await virtual.core.readNamespacedConfigMap({
      name: INVENTORY_NAME,
      namespace: INVENTORY_NAMESPACE,
    });
  } catch (error) {
    ignoreNotFound(error);
  }
  return refsOfInventory(configMap);
}

async function writeInventory(virtual: KubeClients, refs: ObjectRef[], commit?: string): Promise<void> {
  await applyObject(virtual, inventoryConfigMap(refs, commit) as KubernetesObject, FIELD_MANAGER);
}

const isImmutableJob = (object: KubernetesObject, error: unknown) =>
  object.kind === 'Job' &&
  error instanceof ApplyError &&
  error.statusCode === 422 &&
  error.message.includes('field is immutable');

/**
 * Server-side apply; a Job whose pod template changed cannot be updated (the field is immutable),
 * so it is deleted and made again, as `kubectl replace --force` would: a new migration, a new run.
 */
async function applyOrReplace(
  virtual: KubeClients,
  object: KubernetesObject,
  report: (message: string) => void,
): Promise<KubernetesObject> {
  try {
    return await applyObject(virtual, object, FIELD_MANAGER);
  } catch (error) {
    if (!isImmutableJob(object, error)) throw error;
    report(`replacing ${describeRef(refOf(object))}: its spec changed, and a Job's cannot be updated`);
    await deleteAndWait(virtual, object);
    return applyObject(virtual, object, FIELD_MANAGER);
  }
}

/** Runs `task` for every item, at most `limit` at once; resolves with every outcome in order. */
async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The reason the API server gave, without the `Kind ns/name: ` that ApplyError puts in front. */
const reasonOf = (error: unknown, ref: ObjectRef): string => {
  const message = messageOf(error);
  const prefix = `${describeRef(ref)}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
};

const isUnknownKind = (error: unknown) =>
  error instanceof ApplyError && error.statusCode === 404 && error.message.includes('unknown kind');

async function waitForCrdsEstablished(virtual: KubeClients, crds: KubernetesObject[], timeoutMs: number) {
  await Promise.all(
    crds.map((crd) =>
      waitUntil(
        async () => {
          const { status, body } = await rawRequest(
            virtual,
            'GET',
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(crd.metadata?.name ?? '')}`,
          );
          if (status !== 200) return false;
          const conditions =
            (JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } }).status
              ?.conditions ?? [];
          return conditions.some((c) => c.type === 'Established' && c.status === 'True');
        },
        { what: `CustomResourceDefinition ${crd.metadata?.name} to be established`, timeoutMs },
      ),
    ),
  );
}

/** Deletes one pruned object if it still exists and is still labelled as ours; says what happened. */
async function pruneOne(virtual: KubeClients, ref: ObjectRef): Promise<'deleted' | 'gone' | 'skipped'> {
  let path: string;
  try {
    path = await objectPath(virtual, {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    });
  } catch (error) {
    if (isUnknownKind(error)) return 'gone'; // its API (a CRD) is gone, and its objects with it
    throw error;
  }
  const current = await rawRequest(virtual, 'GET', path);
  if (current.status === 404) return 'gone';
  if (current.status >= 300) throw new Error(`reading it failed: ${current.status} ${current.body}`);
  const live = JSON.parse(current.body) as KubernetesObject;
  if (live.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'skipped';
  const deleted = await rawRequest(
    virtual,
    'DELETE',
    path,
    JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' }),
  );
  if (deleted.status === 404) return 'gone';
  if (deleted.status >= 300) {
    let message = deleted.body;
    try {
      message = (JSON.parse(deleted.body) as { message?: string }).message ?? message;
    } catch {
      // Not a Status object.
    }
    throw new Error(message);
  }
  return 'deleted';
}

/**
 * Applies `objects` into the virtual cluster with server-side apply (field manager
 * `vcluster-preview`, conflicts forced) and prunes what the previous deploy applied and `objects` no
 * longer has, if it still carries the managed label. Idempotent: running it again with the same
 * objects changes nothing. Throws a DeployError naming every object the API server refused.
 */
export async function deployApp(options: DeployOptions): Promise<DeployResult> {
  const { virtual, objects, commit } = options;
  const report = options.report ?? (() => {});
  const concurrency = options.concurrency ?? 8;
  const previous = options.previous ?? (await readInventory(virtual));
  const planned = inventoryOf(objects);

  // Before anything is applied, the inventory lists old and new: a crash from here on leaks nothing.
  await writeInventory(virtual, uniqueRefs([...previous, ...planned]), commit);

  const customGroups = new Set(
    objects
      .filter((object) => object.kind === 'CustomResourceDefinition')
      .map((crd) => (crd as { spec?: { group?: string } }).spec?.group ?? ''),
  );
  const crdTimeoutMs = options.crdTimeoutMs ?? 30_000;
  const applyOne = async (object: KubernetesObject) => {
    // A kind whose CRD was just established may take a moment to show in discovery.
    if (!customGroups.has(groupOf(object.apiVersion ?? ''))) return applyOrReplace(virtual, object, report);
    const deadline = Date.now() + crdTimeoutMs;
    for (;;) {
      try {
        return await applyObject(virtual, object, FIELD_MANAGER);
      } catch (error) {
        if (!isUnknownKind(error) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };

  const applied: KubernetesObject[] = [];
  let beforeWorkloads = options.beforeWorkloads;
  for (const phase of applyPhases(objects)) {
    if (beforeWorkloads && phaseOf(refOf(phase[0] as KubernetesObject)) === 2) {
      await beforeWorkloads();
      beforeWorkloads = undefined;
    }
    report(`applying ${phase.length} object${phase.length > 1 ? 's' : ''}`);
    const results = await settleAll(phase, concurrency, applyOne);
    const failures: DeployFailure[] = [];
    results.forEach((result, index) => {
      const ref = refOf(phase[index] as KubernetesObject);
      if (result.status === 'fulfilled') applied.push(result.value);
      else failures.push({ ref, message: reasonOf(result.reason, ref), status: statusCodeOf(result.reason) });
    });
    if (failures.length > 0) throw new DeployError(failures);
    const crds = phase.filter((object) => object.kind === 'CustomResourceDefinition');
    if (crds.length > 0) {
      report(`waiting for ${crds.length} CustomResourceDefinition${crds.length > 1 ? 's' : ''}`);
      await waitForCrdsEstablished(virtual, crds, crdTimeoutMs);
    }
  }

  await beforeWorkloads?.();

  const inventory = inventoryOf(applied);
  const pending = toPrune(previous, inventory);
  const pruned: ObjectRef[] = [];
  const skipped: ObjectRef[] = [];
  if (pending.length > 0) {
    report(`pruning ${pending.length} object${pending.length > 1 ? 's' : ''}`);
    const failures: DeployFailure[] = [];
    // One at a time, in order: what lives in a namespace or is defined by a CRD goes before them.
    for (const ref of pending) {
      try {
        const outcome = await pruneOne(virtual, ref);
        if (outcome === 'deleted') pruned.push(ref);
        else if (outcome === 'skipped') skipped.push(ref);
      } catch (error) {
        failures.push({ ref, message: messageOf(error), status: statusCodeOf(error) });
      }
    }
    if (failures.length > 0) throw new DeployError(failures, 'prune');
  }

  await writeInventory(virtual, inventory, commit);
  return { applied, inventory, pruned, skipped };
}
