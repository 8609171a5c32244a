// The Gatherer alone: what one pass of the event loop gathers, how groups are cut, and how failures reach callers.
import t from 'tap'
import { Gatherer, GATHERED_CALLS_LIMIT } from '../../src/stores/redis/gatherer.js'

t.test('calls made in one pass leave together, in arrival order, each answered with its own result', async (t) => {
  const sent: number[][] = []
  const gatherer = new Gatherer<number, string>(async (inputs) => {
    sent.push(inputs)
    return inputs.map((n) => `answer ${n}`)
  })
  const answers = await Promise.all([1, 2, 3].map((n) => gatherer.add(n)))
  t.same(sent, [[1, 2, 3]])
  t.same(answers, ['answer 1', 'answer 2', 'answer 3'])
  t.same(await gatherer.add(4), 'answer 4', 'a later pass makes a group of its own')
  t.same(sent, [[1, 2, 3], [4]])
})

t.test(`groups hold at most ${GATHERED_CALLS_LIMIT} calls`, async (t) => {
  const sizes: number[] = []
  const gatherer = new Gatherer<number, number>(async (inputs) => {
    sizes.push(inputs.length)
    return inputs
  })
  const count = GATHERED_CALLS_LIMIT * 2 + 1
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => gatherer.add(i)))
  t.same(sizes, [GATHERED_CALLS_LIMIT, GATHERED_CALLS_LIMIT, 1])
  t.same(answers, Array.from({ length: count }, (_, i) => i), 'each caller gets the answer to its own input')
})

t.test('a failed send, even a synchronous throw, rejects every call of its group and no other', async (t) => {
  const gatherer = new Gatherer<number, number>((inputs) => {
    if (inputs.includes(0)) throw new Error('refused')
    return Promise.resolve(inputs)
  })
  const failed = await Promise.allSettled([0, 1].map((n) => gatherer.add(n)))
  t.same(
    failed.map((outcome) => outcome.status === 'rejected' && (outcome.reason as Error).message),
    ['refused', 'refused'],
  )
  t.equal(await gatherer.add(2), 2, 'the next pass is unaffected')
})

t.test('an answer that is a promise settles its own caller alone', async (t) => {
  const gatherer = new Gatherer<number, number>(async (inputs) => inputs.map((n) => (n === 1 ? Promise.reject(new Error('one failed')) : n)))
  const outcomes = await Promise.allSettled([0, 1, 2].map((n) => gatherer.add(n)))
  t.same(
    outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
    [0, 'one failed', 2],
  )
})

t.test('a send that answers fewer results than calls rejects the group instead of answering undefined', async (t) => {
  const gatherer = new Gatherer<number, number>(async (inputs) => inputs.slice(1))
  const outcomes = await Promise.allSettled([0, 1].map((n) => gatherer.add(n)))
  t.ok(outcomes.every((outcome) => outcome.status === 'rejected' && /gathered 2 calls, got 1 answers/.test((outcome.reason as Error).message)))
})
