/** A call that got no answer in time (client-node 1.4 requests have no timeout of their own). */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
}

/**
 * Settles like `promise`, or rejects with a DeadlineError after `ms`. The request itself keeps running
 * (client-node offers no way to abort it) but the caller moves on; the timer never outlives the call.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
