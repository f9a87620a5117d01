export { ChainStore, STORE_FILE, type AdmitOutcome, type BlockCommit, type ChainStoreOptions, type PendingAppend } from './chain-store.js'
export { BlockStore, MessageStore, MetadataStore, PendingPool, type ChainTip, type PendingEntry, type StoredMessage } from './databases.js'
