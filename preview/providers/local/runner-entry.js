// Entry of a local virtual cluster's background process:
//   node runner-entry.js <state folder> [<built runner.js>]
// Runs the runner compiled to dist/ (see cli/build.mjs): the process lives as long as the virtual
// cluster, and tsx would add about 100 MB to it. The provider passes the current build's runner when
// it found dist/ up to date; checking here instead (hashing every source) would cost this process
// about 10 MB it never gives back. Without it, the build is checked (and rebuilt when stale) here.
import { pathToFileURL } from 'node:url';

const [stateDir, builtRunner] = process.argv.slice(2);
const { runLocalCluster } = builtRunner
  ? await import(pathToFileURL(builtRunner).href)
  : await (await import('../../../cli/build.mjs')).load('runner');
await runLocalCluster(stateDir);
