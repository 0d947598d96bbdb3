// Entry of a local virtual cluster's background process: `node runner-entry.js <state folder>`.
// Runs the runner compiled to dist/ (rebuilt first when a source changed; see controlplane/build.mjs): the
// process lives as long as the virtual cluster, and tsx would add about 100 MB to it.
import { load } from '../../../controlplane/build.mjs';

const { runLocalCluster } = await load('runner');
await runLocalCluster(process.argv[2]);
