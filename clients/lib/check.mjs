// Small helpers every suite shares: a failure that stops a suite with a readable message, checks
// that say what they wanted, and waits that always end.

import { isDeepStrictEqual } from 'node:util';

// Failure is an expected kind of failure: its message is the whole story (no stack trace).
export class Failure extends Error {}

export function check(ok, message) {
  if (!ok) throw new Failure(typeof message === 'function' ? message() : message);
}

// equal checks that got is want, as JSON values.
export function equal(got, want, what) {
  check(isDeepStrictEqual(got, want), () => `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// within settles like promise, or rejects with a Failure after ms: no wait is unbounded.
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Failure(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// rejection runs fn, which must throw, and returns what it threw.
export async function rejection(fn, what) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Failure(`${what}: succeeded, want an error`);
}

// ids maps a list of objects to their ids.
export const ids = (list) => list?.map((x) => x.id);

// codeOf is the extensions.code of a GraphQL error (an object of the response's errors).
export const codeOf = (err) => err?.extensions?.code;

// until polls probe every `every` ms until it returns something truthy, which it returns, or
// rejects with a Failure after timeout ms.
export async function until(what, probe, timeout, every = 50) {
  const deadline = performance.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (performance.now() > deadline) throw new Failure(`${what}: not within ${timeout / 1000} s`);
    await sleep(every);
  }
}
