#!/usr/bin/env node
// The published entry: runs the CLI compiled to dist/ (rebuilt first when a source changed; see
// build.mjs), so a long-running command such as `syncer` or `serve` does not carry tsx's memory.
import { load } from '../controlplane/build.mjs';

await load('cli');
