// Imported first by server.ts: on a Node.js older than 20.19 the server would die while loading Swagger UI's static
// file server (it require()s an ES-module-only package), with ERR_REQUIRE_ESM and no hint; this says why instead.
export const MINIMUM_NODE = '20.19.0'

/** Whether a Node.js version string ("v20.18.0" or "20.18.0") is at least MINIMUM_NODE. */
export function supportsNode(version: string): boolean {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number)
  const [needMajor, needMinor, needPatch] = MINIMUM_NODE.split('.').map(Number)
  if (major !== needMajor) return major > needMajor
  if (minor !== needMinor) return minor > needMinor
  return patch >= needPatch
}

if (!supportsNode(process.version)) {
  process.stderr.write(`calendar-sync-sidecar needs Node.js ${MINIMUM_NODE} or later; this is Node.js ${process.version}\n`)
  process.exit(1)
}
