/** Kong's periods, smallest first; this is also the order limits must not decrease in. */
export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** `X-RateLimit-*-<Name>` suffixes. */
export const PERIOD_HEADER_NAMES: Readonly<Record<Period, string>> = {
  second: 'Second',
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  month: 'Month',
  year: 'Year',
};

const FIXED_MS: Partial<Record<Period, number>> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface Window {
  /** Inclusive start, ms since the epoch. */
  readonly start: number;
  /** Exclusive end. */
  readonly end: number;
}

/**
 * The calendar window (UTC, as Kong's `timestamp.get_timestamps`) containing `now`: the second,
 * minute, hour, day, month or year it falls in. Months and years have their real lengths.
 */
export function windowAt(period: Period, now: number): Window {
  const size = FIXED_MS[period];
  if (size !== undefined) {
    const start = now - (((now % size) + size) % size);
    return { start, end: start + size };
  }
  const date = new Date(now);
  const year = date.getUTCFullYear();
  if (period === 'year') return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  const month = date.getUTCMonth();
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

/**
 * `windowAt` with the last answer kept: consecutive requests almost always fall in the same
 * window, so month/year windows do not build a Date per request.
 */
export function windowCache(period: Period): (now: number) => Window {
  let last: Window = { start: 0, end: 0 };
  return (now) => {
    if (now < last.start || now >= last.end) last = windowAt(period, now);
    return last;
  };
}
