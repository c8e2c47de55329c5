/**
 * The limiter \`max\` every Atelier worker runs with: far above any real rate, it only makes
 * manual rate limits (\`queue.rateLimit\`) take effect. A queue is throttled while
 * \`queue.getRateLimitTtl(LIMITER_MAX) > 0\`.
 */
export const LIMITER_MAX = 1_000_000;
