// A throwaway self-signed certificate for localhost, from the openssl CLI: Node can make keys but not certificates.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface LocalhostCertificate {
  /** PEM; a client trusts it through NODE_EXTRA_CA_CERTS=certFile, read when Node starts */
  key: string
  cert: string
  certFile: string
  remove(): void
}

export async function localhostCertificate(): Promise<LocalhostCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'css-tls-'))
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-nodes', '-days', '1',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', keyFile, '-out', certFile,
    ])
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`openssl could not make a test certificate: ${(error as Error).message}`)
  }
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
