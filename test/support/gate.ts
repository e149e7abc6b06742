/** A promise the test settles when it decides to (or never). */
export interface Gate<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function gate<T>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Rejected before anyone awaits it (or with nobody ever awaiting it) is not an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Lets promise actors deliver their results: macrotask turns, so every microtask chain has run. */
export async function flush(): Promise<void> {
  for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
