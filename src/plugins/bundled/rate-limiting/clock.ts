/**
 * Where rate-limiting reads the time. Production never changes it; tests replace `now` to
 * step across window boundaries without sleeping (and restore it afterwards).
 */
export const clock: { now: () => number } = { now: () => Date.now() };
