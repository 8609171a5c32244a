import t from 'tap'
import { MINIMUM_NODE, supportsNode } from '../src/require-node.js'

t.test('Node.js 20.19.0 and later pass; older releases do not', async (t) => {
  t.equal(MINIMUM_NODE, '20.19.0')
  for (const version of ['v20.19.0', '20.19.0', 'v20.20.2', 'v20.100.0', 'v22.0.0', 'v24.21.0', 'v100.0.0']) t.ok(supportsNode(version), version)
  for (const version of ['v20.18.9', 'v20.18.0', 'v20.9.0', 'v19.99.99', 'v18.20.4', 'v8.0.0']) t.notOk(supportsNode(version), version)
})
