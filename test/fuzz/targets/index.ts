// Every fuzz target, in the order `npm run fuzz` runs and reports them.
import type { FuzzTarget } from '../lib/target.js'
import { target as batch } from './batch.js'
import { target as block } from './block.js'
import { target as gossipVerdict } from './gossip-verdict.js'
import { target as header } from './header.js'
import { target as jsonBody } from './json-body.js'
import { target as message } from './message.js'
import { target as msgpackBody } from './msgpack-body.js'
import { target as status } from './status.js'
import { target as syncRequest } from './sync-request.js'
import { target as syncResponse } from './sync-response.js'

export const targets: readonly FuzzTarget[] = [block, header, message, batch, syncRequest, syncResponse, status, jsonBody, msgpackBody, gossipVerdict]

export function findTarget (name: string): FuzzTarget | undefined {
  return targets.find(t => t.name === name)
}
