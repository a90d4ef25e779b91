#!/usr/bin/env node
// The `panoptes` command: runs the TypeScript sources through tsx, so there is no build step
// and no stale build to forget after a `git pull`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
// Exit explicitly: the graph has been stopped by now, and a native library's idle thread must
// not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
