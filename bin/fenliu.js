#!/usr/bin/env node
// Launcher for the `fenliu` command: runs the TypeScript entry through tsx (a devDependency),
// resolved from this package, so `npx fenliu` works in the repository without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/fenliu.ts');
