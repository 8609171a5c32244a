// Random token parts for claims: 22 base64url characters (132 random bits) each.
import { randomFillSync } from 'node:crypto'

// 3 KiB of randomness is encoded at once and cut into nonces: a slice is a plain string operation, where encoding
// each nonce on its own was a native call per claim. 3,072 bytes encode to 4,096 characters without padding.
const NONCE_LENGTH = 22
const bytes = Buffer.alloc(3 * 1024)
let text = ''
let offset = 0

export function createNonce(): string {
  if (offset + NONCE_LENGTH > text.length) {
    randomFillSync(bytes)
    text = bytes.toString('base64url')
    offset = 0
  }
  const nonce = text.slice(offset, offset + NONCE_LENGTH)
  offset += NONCE_LENGTH
  return nonce
}
