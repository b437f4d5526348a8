/** Fixed one-second windows, one counter per API route, like the gateway's per-API flow control. */
export interface RateLimiter {
  /** Counts one call on `route`; false when the route is over its limit in the current second. */
  take(route: string): boolean;
  reset(): void;
}

/** A limiter allowing `limitPerSecond` calls per route and second; 0 turns it off. */
export function createRateLimiter(limitPerSecond: number, now: () => number): RateLimiter {
  const windows = new Map<string, { second: number; count: number }>();
  return {
    take(route) {
      if (limitPerSecond <= 0) return true;
      const second = Math.floor(now() / 1000);
      const window = windows.get(route);
      if (window === undefined || window.second !== second) {
        windows.set(route, { second, count: 1 });
        return true;
      }
      window.count += 1;
      return window.count <= limitPerSecond;
    },
    reset: () => windows.clear(),
  };
}
