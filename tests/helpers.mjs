// Shared helpers of the evo-billing Node tests (not a test file itself: node --test only runs
// *.test.mjs here).
import assert from "node:assert/strict";

/** Asserts that `e` is the package's ApiError: an Error named "ApiError" with a numeric `status`
 * and a ServiceStack `responseStatus` ({ errorCode, message, errors }). Returns it. */
export function assertApiError(e, status) {
  assert.ok(e instanceof Error, `expected an Error, got ${describe(e)}`);
  assert.equal(e.name, "ApiError", `expected an ApiError, got ${e.name}: ${e.message}`);
  assert.equal(typeof e.status, "number", "ApiError.status must be a number");
  assert.ok(e.responseStatus && typeof e.responseStatus === "object", "ApiError.responseStatus must be an object");
  assert.equal(typeof e.responseStatus.errorCode, "string", "responseStatus.errorCode must be a string");
  assert.ok(e.responseStatus.errorCode.length > 0, "responseStatus.errorCode must not be empty");
  assert.equal(typeof e.responseStatus.message, "string", "responseStatus.message must be a string");
  if (status !== undefined) assert.equal(e.status, status, `status of: ${e.message}`);
  return e;
}

/** Runs `fn`, which must throw an ApiError (with `status` when given); returns the error. */
export function throwsApiError(fn, status) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, "expected an ApiError to be thrown, but the call returned");
  return assertApiError(thrown, status);
}

/** Awaits `promise`, which must reject with an ApiError (with `status` when given). */
export async function rejectsApiError(promise, status) {
  let thrown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, "expected the promise to reject with an ApiError, but it resolved");
  return assertApiError(thrown, status);
}

/** A short printable description of any value (symbols, BigInts and cyclic objects included). */
export function describe(v) {
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "function";
  if (typeof v === "number") return String(v); // NaN, Infinity, -0 as themselves
  if (v instanceof Error) return `${v.constructor.name}(${v.name}): ${v.message}`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
  } catch {
    return Object.prototype.toString.call(v) + " (cyclic)";
  }
}

/** mulberry32: a small seeded PRNG, so property tests are reproducible. Returns floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi] from a PRNG. */
export function randInt(rnd, lo, hi) {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}
