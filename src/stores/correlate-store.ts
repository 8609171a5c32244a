// The correlate half of the store contract: links, create reservations, the echo ledger, tombstones.
// (Filled in by the /correlate work.)
export interface CorrelateStore {}
