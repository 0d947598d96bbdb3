// Entry of a local virtual cluster's background process: `node runner-entry.js <state folder>`.
import { register } from 'tsx/esm/api';

register();
const { runLocalCluster } = await import('./runner.ts');
await runLocalCluster(process.argv[2]);
