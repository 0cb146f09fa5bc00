#!/usr/bin/env node
// The `vtepkit` command (src/cli/main.ts), run from the build (`npm run build`).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write(`vtepkit: the build is missing (${error.message}); run "npm run build" in the package first\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
