/** What the FDB's and the neighbour table's learn* methods return (datapath codes, no allocation). */

/** learn*: the entry exists and points at this remote; its `updated` time was refreshed. */
export const LEARN_REFRESHED = 0;
/** learn*: a new dynamic entry was created. */
export const LEARN_LEARNT = 1;
/** learn*: a dynamic entry moved to this remote (MAC move). */
export const LEARN_MOVED = 2;
/** learn*: learning is off for this VNI (`nolearning`); nothing changed. Deliver the frame. */
export const LEARN_DISABLED = 3;
/** learn*: a limit is reached; not learnt (counted in stats.learnLimited). Deliver the frame. */
export const LEARN_LIMIT = 4;
/** learn*: a static/permanent entry for this MAC points elsewhere. Drop the frame (as Linux). */
export const LEARN_DROP_STATIC = -1;
/** learn*: the source MAC is multicast or all-zeros, or the VNI is out of range. Drop the frame (as Linux). */
export const LEARN_DROP_INVALID = -2;
