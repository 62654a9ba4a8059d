// Restarting a crashed server: quickly at first, then slower, and not at
// all after too many crashes in a short time.

export const WINDOW_MS = 3 * 60 * 1000;
export const MAX_CRASHES = 5;

/** The delay before the next restart, or `undefined` to give up. */
export function nextRestartDelay(crashTimes: number[], now: number): number | undefined {
  const recent = crashTimes.filter((t) => now - t < WINDOW_MS);
  if (recent.length >= MAX_CRASHES) {
    return undefined;
  }
  return Math.min(500 * 2 ** Math.max(recent.length - 1, 0), 8000);
}
