// Imported first by server.ts. Swagger UI's static file server require()s an ES-module-only package, which Node.js
// allows only from 20.19 and 22.12 on, and not when --no-experimental-require-module turns it off. Without it the
// server would die with ERR_REQUIRE_ESM and no hint; this says why instead.
export const NODE_REQUIREMENT = 'Node.js 20.19 or later on 20.x, or 22.12 or later'

/** Whether this Node.js can require() an ES module: `process.features.require_module` is true (absent before 20.19). */
export function canRequireEsModules(features: { require_module?: boolean } = process.features): boolean {
  return features.require_module === true
}

if (!canRequireEsModules()) {
  process.stderr.write(
    `calendar-sync-sidecar needs ${NODE_REQUIREMENT}, with require() of ES modules on; this is Node.js ${process.version}` +
      `${process.features.require_module === false ? ' with it turned off (--no-experimental-require-module?)' : ''}\n`,
  )
  process.exit(1)
}
