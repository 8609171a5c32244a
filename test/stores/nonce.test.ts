// Claim nonces: their shape, and no repeats across the refills of the random pool.
import t from 'tap'
import { readTokenSequence, mintToken } from '../../src/domain/dedupe-rules.js'
import { createNonce } from '../../src/stores/nonce.js'

t.test('nonces are 22 base64url characters, unique across many pool refills', async (t) => {
  const seen = new Set<string>()
  const count = 20_000 // about a hundred refills of the pool
  let badShape: string | undefined
  for (let i = 0; i < count; i++) {
    const nonce = createNonce()
    if (!/^[A-Za-z0-9_-]{22}$/.test(nonce)) badShape ??= nonce
    seen.add(nonce)
  }
  t.equal(badShape, undefined, 'every nonce is 22 base64url characters')
  t.equal(seen.size, count, 'no nonce repeats')
  t.equal(readTokenSequence(mintToken(7, createNonce())), 7, 'a token made with it reads back')
})
