export { ChainStore, STORE_FILE, type AdmitOutcome, type AppendPendingOptions, type AppendPendingResult, type BlockCommit, type ChainStoreOptions, type IncludedMessage, type PendingAppend, type PendingSpend, type StoreOpenInfo } from './chain-store.js'
export { BlockStore, MessageStore, MetadataStore, PendingPool, type ChainTip, type PendingEntry } from './databases.js'
export { STORE_FORMAT_VERSION, type FormatMigration } from './format.js'
export type { MessagePlace } from './keys.js'
