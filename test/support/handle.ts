/**
 * A handle on what a `beforeAll` starts: reading it before then throws, so that a scenario used outside its
 * tests and hooks fails plainly instead of reading undefined.
 */
export function startedHandle<T extends object>(started: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_, key) {
      const value = started();
      if (!value) throw new Error(`${what} starts before the tests: read it in a test or hook`);
      return Reflect.get(value, key);
    },
  });
}
