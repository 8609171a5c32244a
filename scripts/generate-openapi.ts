// Writes openapi/openapi.yaml from the route schemas: `npm run openapi`. A test fails when the file drifts.
import { writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from './openapi-document.js'

const yaml = await renderOpenApiYaml()
writeFileSync(new URL('../openapi/openapi.yaml', import.meta.url), yaml)
process.stdout.write(`openapi/openapi.yaml written (${yaml.length} bytes)\n`)
