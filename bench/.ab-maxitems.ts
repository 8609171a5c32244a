// ad-hoc A/B (not committed): memory store bound 2M vs default 100k, interleaved
import { measureInterleaved, posts, serverTarget, uniqueEvent } from './harness.js'
const mk = (n: string) => serverTarget('mem' + n, 'dist/server.js', async () => ({ STORE: 'memory', MEMORY_MAX_ITEMS: n }))
const base = serverTarget('baseline', 'bench/baseline-server.ts', async () => ({}))
const big = mk('2000000'), small = mk('100000')
const batchBody = () => ({ events: Array.from({ length: 100 }, uniqueEvent) })
for (let r = 0; r < Number(process.env.R ?? 2); r++) {
  const f = await measureInterleaved({
    base: { target: base, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: 600000 },
    big: { target: big, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: 600000 },
    small: { target: small, load: posts('/dedupe'), makeBody: uniqueEvent, poolSize: 600000 },
    bigB: { target: big, load: posts('/dedupe/batch'), makeBody: batchBody, poolSize: 20000 },
    smallB: { target: small, load: posts('/dedupe/batch'), makeBody: batchBody, poolSize: 20000 },
  })
  const b = f.base.requestsPerSecond
  const x = (v: number) => Math.round(v * 100) / 100
  console.log(JSON.stringify({ base: b, baseCpu: f.base.serverCpuUsPerRequest, big: x(f.big.requestsPerSecond / b), bigCpu: f.big.serverCpuUsPerRequest, small: x(f.small.requestsPerSecond / b), smallCpu: f.small.serverCpuUsPerRequest, bigB: x(f.bigB.requestsPerSecond * 100 / f.big.requestsPerSecond), bigBCpu: f.bigB.serverCpuUsPerRequest! / 100, smallB: x(f.smallB.requestsPerSecond * 100 / f.small.requestsPerSecond), smallBCpu: f.smallB.serverCpuUsPerRequest! / 100 }))
}
