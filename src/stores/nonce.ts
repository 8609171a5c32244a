// Random token parts for claims: 128 bits as 22 base64url characters, cut from a pooled random buffer.
import { randomFillSync } from 'node:crypto'

// Buffer.toString yields one flat string; randomUUID's result is a tree of concatenated pieces that costs
// ~500 bytes per token the memory store keeps.
const pool = Buffer.alloc(4096)
let offset = pool.length

export function createNonce(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const nonce = pool.toString('base64url', offset, offset + 16)
  offset += 16
  return nonce
}
