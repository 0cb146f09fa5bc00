/**
 * The forwarding database (docs/fdb.md): MAC learning with Linux `bridge fdb`
 * semantics, and the ARP/ND suppression table.
 */
export {
  Fdb,
  formatRow,
  LEARN_REFRESHED,
  LEARN_LEARNT,
  LEARN_MOVED,
  LEARN_DISABLED,
  LEARN_LIMIT,
  LEARN_DROP_STATIC,
  LEARN_DROP_INVALID,
  ENTRY_IN_USE,
  ENTRY_PERMANENT,
  ENTRY_STATIC,
  ENTRY_EXTERN_LEARN,
  ENTRY_ROUTER,
  ENTRY_ADDED_BY_USER,
} from './fdb.js';
export type {
  FdbOptions,
  FdbEntryOptions,
  FdbDeleteOptions,
  FdbRow,
  FdbShowOptions,
  FdbVniConfig,
  FdbVniState,
  FdbDocument,
  FdbDocumentInput,
  FdbRowInput,
  NeighbourRowInput,
  FdbLoadOptions,
  FdbSnapshot,
} from './fdb.js';
export { FdbError } from './errors.js';
export type { FdbErrorCode } from './errors.js';
export { FdbStats } from './stats.js';
export { NeighbourTable, NEIGHBOUR_REFUSED, NEIGHBOUR_IGNORED, NEIGHBOUR_ROUTER } from './neighbours.js';
export type { NeighbourOptions, NeighbourRow } from './neighbours.js';
export { PROXY_ARP_REPLY_LENGTH, PROXY_NA_REPLY_LENGTH } from './proxy.js';
export { DESTINATION_IPV4, DESTINATION_IPV6, DESTINATION_LOCAL } from './destinations.js';
export type { FdbEvent, FdbEventTarget, NeighbourEvent, FdbEventMap, FdbEventName } from './events.js';
export type { EntryState } from './parse.js';
