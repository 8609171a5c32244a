// The check itself; test/server.test.ts starts the server with the feature off.
import t from 'tap'
import { canRequireEsModules } from '../src/require-node.js'

t.test('require() of ES modules must be on: absent (before 20.19) or turned off is refused', async (t) => {
  t.ok(canRequireEsModules({ require_module: true }))
  t.notOk(canRequireEsModules({ require_module: false }))
  t.notOk(canRequireEsModules({}))
})
