/** Time as the channel server sees it; a seam so tests can make the clock stand still or go back. */
export interface Clock {
  /** Microseconds since the epoch. */
  nowMicros(): number;
}

/** The system clock with microsecond resolution. */
export const systemClock: Clock = {
  nowMicros: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
};
