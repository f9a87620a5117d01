// The network layer's public surface.
export { Network, type NetworkModules } from './network.js'
export { DEFAULT_NETWORK_OPTIONS, resolveNetworkOptions, type NetworkInit, type NetworkOptions } from './options.js'
export { BLOCKS_TOPIC, MESSAGES_TOPIC, TOPICS } from './gossip.js'
export { SyncClient, DEFAULT_SYNC_CLIENT_OPTIONS, type SyncClientModules, type SyncClientOptions, type SyncResult, type SyncStatus } from './sync-client.js'
export { SYNC_PROTOCOL, MAX_RESPONSE_BLOCKS, MAX_RESPONSE_BYTES, encodeSyncRequest, decodeSyncRequest, type SyncRequest } from './sync-protocol.js'
export { PEER_KEY_FILE, loadOrCreatePeerKey } from './peer-key.js'
export type { BlockSource, ChainImporter, GossipHandler, GossipVerdict, NetworkEvents, PeerStatusEvent, SyncNetwork } from './types.js'
