// Time as the rules see it: injected so 24 h, 60 days and idle limits are tested without waiting.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
