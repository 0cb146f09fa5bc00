/**
 * Counters of a forwarding database. Plain number fields on one object (as the
 * buffer pool's), so the datapath increments them without allocating, also past
 * 2^31. Read them as `fdb.stats.moved`; `fdb.snapshot()` copies them with the sizes.
 */
export class FdbStats {
  /** New entries learnt on receive. */
  learnt = 0;
  /** Dynamic entries moved to another remote on receive (MAC move). */
  moved = 0;
  /** Frames whose source MAC has a static/permanent entry pointing elsewhere: the datapath drops them (as Linux). */
  movesRefused = 0;
  /** Learning refused at a limit (entries per VNI, in total, VNIs, destinations). */
  learnLimited = 0;
  /** Frames with a multicast or all-zeros source MAC, or a VNI out of range: not learnt, dropped (as Linux). */
  invalidSource = 0;
  /** Dynamic entries removed by ageing. */
  aged = 0;
  /** forward() of a unicast MAC with no entry and no all-zeros entry (Linux L2miss). */
  misses = 0;
  /** forward() found nothing at all (no entry, no all-zeros entry): the frame has nowhere to go. */
  noDestination = 0;
  /** Events that did not fit in the queue (no listener was told). */
  eventsDropped = 0;
  /** Sweep slices run, and the slots they examined. */
  sweepSlices = 0;
  sweepSlots = 0;
  /** The longest sweep slice so far, in milliseconds. */
  sweepMaxMs = 0;

  /** Neighbour (ARP/ND suppression) entries learnt from received ARP / neighbour advertisements. */
  neighbourLearnt = 0;
  /** Dynamic neighbours whose MAC changed. */
  neighbourMoved = 0;
  /** Learnt neighbour bindings refused because a static/permanent entry says otherwise. */
  neighbourMovesRefused = 0;
  neighbourLimited = 0;
  neighbourAged = 0;
  /** ARP replies / neighbour advertisements written by proxyReply(). */
  proxyReplies = 0;
  /** proxyReply() requests for an unknown address (Linux L3miss): the caller floods them. */
  proxyMisses = 0;
  /** proxyReply() could not write its reply: the output buffer is too small. */
  proxyNoRoom = 0;
}
