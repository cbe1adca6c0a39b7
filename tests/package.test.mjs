// The npm package `evo-billing` as an app uses it: validation, dates, money, aggregation, CSV,
// JSV, and what happens when JavaScript passes the wrong things.
// Run from the repository root: node --test tests/
import { test, describe as group } from "node:test";
import assert from "node:assert/strict";

import * as pkg from "evo-billing";
import {
  BillingClient,
  billingInfoToCsv,
  billingTotals,
  datePresets,
  formatMoney,
  fromJsv,
  mergeBilling,
  parseDateRange,
  presetRange,
  sumMoney,
  summarizeUsage,
  summarizeUsageJson,
  toJsv,
  topCustomers,
  usageRecordsToCsv,
  validateBillingReport,
  validateGetBilling,
  validateListUsageRecords,
  validateNewBillable,
} from "evo-billing";

import { assertApiError, describe, prng, randInt, throwsApiError } from "./helpers.mjs";

const fields = (errors) => errors.map((e) => e.fieldName);
const codes = (errors) => errors.map((e) => e.errorCode);

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

group("validateNewBillable", () => {
  test("a call SID alone: SessionId, AccountId and CustomerId are missing", () => {
    const errors = validateNewBillable({ callSid: "CA123" });
    assert.equal(errors.length, 3);
    assert.deepEqual(fields(errors), ["SessionId", "AccountId", "CustomerId"]);
    assert.deepEqual(codes(errors), ["NotEmpty", "NotEmpty", "NotEmpty"]);
    for (const e of errors) {
      assert.equal(typeof e.message, "string");
      assert.ok(e.message.trim().length > 0, `empty message for ${e.fieldName}`);
    }
  });

  test("a session and a call SID are enough", () => {
    assert.deepEqual(validateNewBillable({ sessionId: "s", callSid: "c" }), []);
  });

  test("an account and a customer are enough too", () => {
    assert.deepEqual(validateNewBillable({ accountId: "a", customerId: "cu", callSid: "c" }), []);
  });

  test("an account without a customer: only CustomerId", () => {
    const errors = validateNewBillable({ accountId: "acc", callSid: "CA1" });
    assert.deepEqual(fields(errors), ["CustomerId"]);
    assert.equal(errors[0].errorCode, "NotEmpty");
  });

  test("no call SID (absent or blank): CallSid", () => {
    for (const callSid of [undefined, "", "   "]) {
      const errors = validateNewBillable({ sessionId: "s", callSid });
      assert.deepEqual(fields(errors), ["CallSid"], `callSid ${describe(callSid)}`);
      assert.equal(errors[0].errorCode, "NotEmpty");
    }
  });

  test("an empty request: every field, in order", () => {
    assert.deepEqual(fields(validateNewBillable({})), ["SessionId", "AccountId", "CustomerId", "CallSid"]);
  });

  test("a 200-character call SID: MaximumLength (128 is the limit)", () => {
    const errors = validateNewBillable({ sessionId: "s", callSid: "C".repeat(200) });
    assert.deepEqual(fields(errors), ["CallSid"]);
    assert.equal(errors[0].errorCode, "MaximumLength");
    assert.deepEqual(validateNewBillable({ sessionId: "s", callSid: "C".repeat(128) }), []);
    assert.equal(validateNewBillable({ sessionId: "s", callSid: "C".repeat(129) })[0].errorCode, "MaximumLength");
  });

  test("control characters in an identifier are refused", () => {
    const errors = validateNewBillable({ sessionId: "s", callSid: "CA\u00001" });
    assert.equal(errors[0].errorCode, "InvalidCharacters");
  });
});

// The three range-checked requests share the date rules; BillingReport allows longer ranges.
const RANGED = [
  { name: "validateGetBilling", fn: validateGetBilling, maxDays: 3660 },
  { name: "validateListUsageRecords", fn: validateListUsageRecords, maxDays: 3660 },
  { name: "validateBillingReport", fn: validateBillingReport, maxDays: 3660 },
];

function addDays(ymd, n) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

for (const { name, fn, maxDays } of RANGED) {
  group(name, () => {
    test("missing fields, PascalCase, in order", () => {
      const errors = fn({});
      assert.deepEqual(fields(errors), ["AccountId", "StartDate", "EndDate"]);
      assert.deepEqual(codes(errors), ["NotEmpty", "NotEmpty", "NotEmpty"]);
      assert.equal(errors[0].message, "'Account Id' must not be empty.");
    });

    test("a valid request has no errors", () => {
      assert.deepEqual(fn({ accountId: "AC1", startDate: "2026-03-01", endDate: "2026-03-31" }), []);
    });

    test("invalid date text: InvalidDate on the field", () => {
      const errors = fn({ accountId: "AC1", startDate: "yesterday", endDate: "2026-02-30" });
      assert.deepEqual(fields(errors), ["StartDate", "EndDate"]);
      assert.deepEqual(codes(errors), ["InvalidDate", "InvalidDate"]);
      for (const bad of ["2026-3-1", "2026/03/01", "01-03-2026", "2026-13-01", "2026-03-01T25:00", "2026-03-01Tnoon"]) {
        const e = fn({ accountId: "AC1", startDate: bad, endDate: "2026-03-31" });
        assert.deepEqual(fields(e), ["StartDate"], bad);
        assert.equal(e[0].errorCode, "InvalidDate", bad);
      }
    });

    test("end before start: GreaterThanOrEqual on EndDate", () => {
      const errors = fn({ accountId: "AC1", startDate: "2026-03-02", endDate: "2026-03-01" });
      assert.deepEqual(fields(errors), ["EndDate"]);
      assert.equal(errors[0].errorCode, "GreaterThanOrEqual");
    });

    test(`more than ${maxDays} days: DateRangeTooLong; exactly ${maxDays} is fine`, () => {
      const start = "2024-01-01";
      const longest = { accountId: "AC1", startDate: start, endDate: addDays(start, maxDays - 1) };
      assert.deepEqual(fn(longest), []);
      const errors = fn({ ...longest, endDate: addDays(start, maxDays) });
      assert.deepEqual(fields(errors), ["EndDate"]);
      assert.equal(errors[0].errorCode, "DateRangeTooLong");
      assert.match(errors[0].message, new RegExp(String(maxDays)));
    });

    test("ISO date-times are accepted (only the date counts)", () => {
      for (const [startDate, endDate] of [
        ["2026-03-01T17:45:00Z", "2026-03-01 17:45"],
        ["2026-03-01T00:00:00.123+05:30", "2026-03-02t10:00z"],
        ["2026-03-01T23:59:59-0800", "2026-03-01"],
      ]) {
        assert.deepEqual(fn({ accountId: "AC1", startDate, endDate }), [], `${startDate} .. ${endDate}`);
      }
    });
  });
}

group("validateBillingReport: notification targets", () => {
  const base = { accountId: "AC1", startDate: "2026-01-01", endDate: "2026-01-31" };
  test("a bad email: Email", () => {
    const errors = validateBillingReport({ ...base, emailAddressToNotify: "not an email" });
    assert.deepEqual(fields(errors), ["EmailAddressToNotify"]);
    assert.equal(errors[0].errorCode, "Email");
  });
  test("an ftp:// webhook: InvalidUrl", () => {
    const errors = validateBillingReport({ ...base, webhookUrl: "ftp://example.com/x" });
    assert.deepEqual(fields(errors), ["WebhookUrl"]);
    assert.equal(errors[0].errorCode, "InvalidUrl");
  });
  test("both at once, with the range still checked", () => {
    const errors = validateBillingReport({ ...base, endDate: "2025-01-01", emailAddressToNotify: "a@b", webhookUrl: "https://u:p@x.example" });
    assert.deepEqual(fields(errors), ["EndDate", "EmailAddressToNotify", "WebhookUrl"]);
    assert.deepEqual(codes(errors), ["GreaterThanOrEqual", "Email", "InvalidUrl"]);
  });
  test("good targets pass", () => {
    assert.deepEqual(
      validateBillingReport({ ...base, emailAddressToNotify: "ops@example.com", webhookUrl: "https://hooks.example.com:8443/billing?x=1", includeCustomerIds: true }),
      [],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bad arguments: an ApiError or a value, never a WebAssembly trap
// ---------------------------------------------------------------------------------------------

// How each export takes its arguments. "value": any JS value, converted inside the package (the
// package promises an ApiError for a bad one). "string" / "u32" / "bytes": converted by the
// generated wasm-bindgen glue before the Rust code runs.
const SIGNATURES = {
  validateNewBillable: [["value", { sessionId: "s", callSid: "c" }]],
  validateGetBilling: [["value", { accountId: "a", startDate: "2026-01-01", endDate: "2026-01-02" }]],
  validateListUsageRecords: [["value", { accountId: "a", startDate: "2026-01-01", endDate: "2026-01-02" }]],
  validateBillingReport: [["value", { accountId: "a", startDate: "2026-01-01", endDate: "2026-01-02" }]],
  parseDateRange: [["string", "2026-01-01"], ["string", "2026-01-31"], ["u32", 400]],
  presetRange: [["string", "last7Days"], ["string", "2026-11-22"]],
  datePresets: [],
  sumMoney: [["value", [1, "2"]]],
  formatMoney: [["value", 1.5], ["string", "USD"]],
  billingTotals: [["value", { customers: [] }]],
  mergeBilling: [["value", [{ customers: [] }]]],
  topCustomers: [["value", { customers: [] }], ["u32", 3]],
  summarizeUsage: [["value", []], ["value", "daily"]],
  summarizeUsageJson: [["bytes", new TextEncoder().encode("[]")], ["value", "daily"]],
  billingInfoToCsv: [["value", { customers: [] }]],
  usageRecordsToCsv: [["value", []]],
  toJsv: [["value", { a: 1 }]],
  fromJsv: [["string", "{a:1}"]],
};

const OFFLINE = "http://127.0.0.1:1"; // nothing listens there; nothing should be sent anyway
const REQUEST = { accountId: "a", startDate: "2026-01-01", endDate: "2026-01-02" };
const CLIENT_METHODS = {
  newBillable: [["value", { sessionId: "s", callSid: "c" }]],
  newBillables: [["value", [{ sessionId: "s", callSid: "c" }]]],
  getBilling: [["value", REQUEST]],
  billingReport: [["value", REQUEST]],
  listUsageRecords: [["value", REQUEST]],
  summarizeUsage: [["value", REQUEST]],
  authenticate: [["value", { userName: "u", password: "p" }]],
  getReport: [["string", "r1"]],
  deleteReport: [["string", "r1"]],
  reportDownloadUrl: [["string", "r1"], ["string", "csv"]],
  setApiKey: [["string", "k"]],
  setBearerToken: [["string", "t"]],
};
const ASYNC_METHODS = new Set(["newBillable", "newBillables", "getBilling", "billingReport", "listUsageRecords", "summarizeUsage", "authenticate", "getReport", "deleteReport"]);

function badValues() {
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  const cyclicArray = [1];
  cyclicArray.push(cyclicArray);
  return [
    0, 42, -1, 1.5, NaN, Infinity, null, undefined, "", "nonsense", "2026-01-01", [], [1, "a", null],
    [[[]]], 10n, 2n ** 70n, cyclic, cyclicArray, true, false, {}, { customers: 5 }, { accountId: 7 },
    [{ price: {} }], { customers: [{ internationalCosts: "abc" }] }, new Uint8Array([1, 2, 3]),
    new Date(0), new Map([["a", 1]]), Symbol("s"), () => 1, Object.create(null),
  ];
}

/** Calls `call` and classifies the outcome: "ok", "ApiError", or a violation description. */
async function outcome(call, mustReturnPromise) {
  let result;
  try {
    result = call();
  } catch (e) {
    return isApiError(e) ? "ApiError" : `threw ${describe(e)}`;
  }
  if (mustReturnPromise && !(result instanceof Promise)) return `returned ${describe(result)} instead of a Promise`;
  if (result instanceof Promise) {
    try {
      await result;
    } catch (e) {
      return isApiError(e) ? "ApiError" : `rejected with ${describe(e)}`;
    }
  }
  return "ok";
}

function isApiError(e) {
  try {
    assertApiError(e);
    return true;
  } catch {
    return false;
  }
}

/** Every (call, label, kind) of the abuse matrix: one bad value in one position, others valid. */
function* abuseCalls() {
  for (const [name, sig] of Object.entries(SIGNATURES)) {
    const fn = pkg[name];
    if (sig.length === 0) {
      for (const bad of badValues()) yield { label: `${name}(${describe(bad)})`, kind: "value", call: () => fn(bad) };
    }
    for (const [pos, [kind]] of sig.entries()) {
      for (const bad of badValues()) {
        const args = sig.map(([, good]) => good);
        args[pos] = bad;
        yield { label: `${name}(arg ${pos} = ${describe(bad)})`, kind, call: () => fn(...args) };
      }
    }
  }
  for (const [kind, pos] of [["string", 0], ["value", 1]]) {
    for (const bad of badValues()) {
      const args = [OFFLINE, { timeoutMs: 500 }];
      args[pos] = bad;
      yield { label: `new BillingClient(arg ${pos} = ${describe(bad)})`, kind, call: () => new BillingClient(...args) };
    }
  }
  const client = new BillingClient(OFFLINE, { timeoutMs: 500 });
  for (const [name, sig] of Object.entries(CLIENT_METHODS)) {
    for (const [pos, [kind]] of sig.entries()) {
      for (const bad of badValues()) {
        const args = sig.map(([, good]) => good);
        args[pos] = bad;
        yield {
          label: `client.${name}(arg ${pos} = ${describe(bad)})`,
          kind,
          async: ASYNC_METHODS.has(name),
          call: () => client[name](...args),
        };
      }
    }
  }
}

async function violations(kinds) {
  const found = [];
  for (const c of abuseCalls()) {
    if (!kinds.includes(c.kind)) continue;
    const o = await outcome(c.call, c.async);
    if (o !== "ok" && o !== "ApiError") found.push(`${c.label}: ${o}`);
  }
  return found;
}

group("bad arguments", () => {
  test("the abuse matrix covers every exported function", () => {
    const exported = Object.keys(pkg)
      .filter((k) => typeof pkg[k] === "function")
      .filter((k) => !["default", "initSync", "BillingClient"].includes(k))
      .sort();
    assert.deepEqual(exported, Object.keys(SIGNATURES).sort());
    const methods = Object.entries(Object.getOwnPropertyDescriptors(BillingClient.prototype))
      .filter(([, d]) => typeof d.value === "function")
      .map(([k]) => k)
      .filter((k) => !["constructor", "free"].includes(k) && !k.startsWith("__"));
    for (const m of methods) {
      assert.ok(m in CLIENT_METHODS || ["authStatus", "listReports", "logout"].includes(m), `client method ${m} not covered`);
    }
  });

  test("request objects, amounts, records, infos, granularities: a value or an ApiError, never a trap", async () => {
    const found = await violations(["value"]);
    assert.deepEqual(found, [], `calls that did not end in a value or an ApiError:\n${found.join("\n")}`);
  });

  test(
    "string, number and byte parameters: a value or an ApiError, never a trap",
    async () => {
      const found = await violations(["string", "u32", "bytes"]);
      assert.deepEqual(found, [], `calls that did not end in a value or an ApiError:\n${found.join("\n")}`);
    },
  );

  test("after all of that abuse, the module still works", async () => {
    for (const c of abuseCalls()) await outcome(c.call, false); // every kind, the trapping ones too
    assert.deepEqual(validateNewBillable({ sessionId: "s", callSid: "c" }), []);
    assert.deepEqual(fields(validateGetBilling({})), ["AccountId", "StartDate", "EndDate"]);
    assert.equal(sumMoney([0.1, 0.2]), "0.3");
    assert.equal(formatMoney(1234.567, "USD"), "1234.57 USD");
    assert.deepEqual(parseDateRange("2026-03-01", "2026-03-31"), { startDate: "2026-03-01", endDate: "2026-03-31", days: 31 });
    assert.deepEqual(presetRange("lastMonth", "2026-11-22"), { startDate: "2026-10-01", endDate: "2026-10-31", days: 31 });
    assert.equal(toJsv({ a: ["b", "c,d"] }), '{a:[b,"c,d"]}');
    assert.deepEqual(fromJsv('{a:[b,"c,d"]}'), { a: ["b", "c,d"] });
    const bytes = new TextEncoder().encode(JSON.stringify([{ category: "sms", price: 0.5, count: 1 }]));
    assert.equal(summarizeUsageJson(bytes, undefined).totalPrice, 0.5);
    const client = new BillingClient("http://example.invalid/", { bearerToken: "t" });
    assert.equal(client.reportDownloadUrl("r 1", "xlsx"), "http://example.invalid/reports/r%201/download.xlsx");
    assertApiError(await client.getBilling({}).catch((e) => e), 400);
    // Big allocations still work (the allocator was not left corrupted).
    const big = Array.from({ length: 20000 }, (_, i) => ({ category: i % 2 ? "calls" : "sms", price: "0.01", count: 1, startDate: "2026-01-01" }));
    assert.equal(summarizeUsage(big, "monthly").totalPrice, 200);
  });
});

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

group("parseDateRange", () => {
  test("date-times count by their date; both ends included", () => {
    assert.deepEqual(parseDateRange("2026-03-01T10:00:00Z", "2026-03-31"), { startDate: "2026-03-01", endDate: "2026-03-31", days: 31 });
    assert.deepEqual(parseDateRange("2026-03-01T23:59:00Z", "2026-03-01T00:01:00Z"), { startDate: "2026-03-01", endDate: "2026-03-01", days: 1 });
    assert.equal(parseDateRange("2024-02-01", "2024-03-01").days, 30); // leap year
  });

  test("an inverted range throws ApiError 400 with an EndDate field error", () => {
    const e = throwsApiError(() => parseDateRange("2026-03-31", "2026-03-01"), 400);
    assert.equal(e.responseStatus.errors[0].fieldName, "EndDate");
    assert.equal(e.responseStatus.errors[0].errorCode, "GreaterThanOrEqual");
    assert.equal(e.responseStatus.errorCode, "GreaterThanOrEqual");
  });

  test("bad dates and too-long ranges throw ApiError 400", () => {
    const bad = throwsApiError(() => parseDateRange("2026-02-30", "2026-03-01"), 400);
    assert.equal(bad.responseStatus.errors[0].fieldName, "StartDate");
    assert.equal(bad.responseStatus.errors[0].errorCode, "InvalidDate");
    const long = throwsApiError(() => parseDateRange("2016-01-01", "2026-01-08"), 400);
    assert.equal(long.responseStatus.errors[0].errorCode, "DateRangeTooLong");
    const custom = throwsApiError(() => parseDateRange("2026-01-01", "2026-01-31", 10), 400);
    assert.equal(custom.responseStatus.errors[0].errorCode, "DateRangeTooLong");
    assert.equal(parseDateRange("2026-01-01", "2026-01-10", 10).days, 10);
  });
});

/** The presets, computed independently with JS dates (UTC, so no time zone is involved). */
function referencePreset(name, today) {
  const t = new Date(`${today}T00:00:00Z`);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  const ymd = (d) => d.toISOString().slice(0, 10);
  const utc = (yy, mm, dd) => new Date(Date.UTC(yy, mm, dd));
  const back = (n) => ymd(new Date(t.getTime() - n * 86400000));
  switch (name) {
    case "today": return [today, today];
    case "yesterday": return [back(1), back(1)];
    case "last7Days": return [back(6), today];
    case "last30Days": return [back(29), today];
    case "thisMonth": return [ymd(utc(y, m, 1)), today];
    case "lastMonth": return [ymd(utc(y, m - 1, 1)), ymd(utc(y, m, 0))];
    case "quarterToDate": return [ymd(utc(y, m - (m % 3), 1)), today];
    case "yearToDate": return [ymd(utc(y, 0, 1)), today];
    case "last12Months": return [ymd(utc(y, m - 11, 1)), today];
    default: throw new Error(`no reference for ${name}`);
  }
}

const daysBetween = (a, b) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000) + 1;

group("presets", () => {
  test("datePresets lists the nine presets with labels, in display order", () => {
    const presets = datePresets();
    assert.deepEqual(presets.map((p) => p.name), ["today", "yesterday", "last7Days", "last30Days", "thisMonth", "lastMonth", "quarterToDate", "yearToDate", "last12Months"]);
    for (const p of presets) assert.ok(typeof p.label === "string" && p.label.length > 0, p.name);
  });

  test("every preset for 2026-11-22: a sane range with the right day count", () => {
    for (const { name } of datePresets()) {
      const r = presetRange(name, "2026-11-22");
      assert.ok(r.startDate <= r.endDate, `${name}: ${r.startDate} > ${r.endDate}`);
      assert.ok(r.endDate <= "2026-11-22", `${name} ends after today`);
      assert.equal(r.days, daysBetween(r.startDate, r.endDate), name);
    }
  });

  test("known values for 2026-11-22 (a Sunday)", () => {
    const known = {
      today: ["2026-11-22", "2026-11-22"],
      yesterday: ["2026-11-21", "2026-11-21"],
      last7Days: ["2026-11-16", "2026-11-22"],
      last30Days: ["2026-10-24", "2026-11-22"],
      thisMonth: ["2026-11-01", "2026-11-22"],
      lastMonth: ["2026-10-01", "2026-10-31"],
      quarterToDate: ["2026-10-01", "2026-11-22"],
      yearToDate: ["2026-01-01", "2026-11-22"],
      last12Months: ["2025-12-01", "2026-11-22"],
    };
    for (const [name, [startDate, endDate]] of Object.entries(known)) {
      const r = presetRange(name, "2026-11-22");
      assert.deepEqual([r.startDate, r.endDate], [startDate, endDate], name);
    }
    assert.equal(presetRange("last7Days", "2026-11-22").days, 7);
    assert.equal(presetRange("last30Days", "2026-11-22").days, 30);
  });

  test("edges: January, March 31st, leap years, and 300 seeded random days against a JS reference", () => {
    assert.deepEqual(presetRange("lastMonth", "2026-01-15"), { startDate: "2025-12-01", endDate: "2025-12-31", days: 31 });
    assert.deepEqual(presetRange("lastMonth", "2024-03-31"), { startDate: "2024-02-01", endDate: "2024-02-29", days: 29 });
    assert.equal(presetRange("quarterToDate", "2026-03-31").startDate, "2026-01-01");
    assert.equal(presetRange("quarterToDate", "2026-04-01").startDate, "2026-04-01");
    const rnd = prng(2026);
    for (let i = 0; i < 300; i++) {
      const today = new Date(Date.UTC(2000, 0, 1) + randInt(rnd, 0, 365 * 40) * 86400000).toISOString().slice(0, 10);
      for (const { name } of datePresets()) {
        const r = presetRange(name, today);
        assert.deepEqual([r.startDate, r.endDate], referencePreset(name, today), `${name} for ${today}`);
      }
    }
  });

  test("a date-time as today, and names in any case", () => {
    assert.deepEqual(presetRange("yesterday", "2026-03-01T23:30:00+05:00"), { startDate: "2026-02-28", endDate: "2026-02-28", days: 1 });
    assert.equal(presetRange("LAST7DAYS", "2026-11-22").startDate, "2026-11-16");
  });

  test("without today, the local date is used", () => {
    const local = () => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    };
    const before = local();
    const r = presetRange("today");
    const after = local();
    assert.ok([before, after].includes(r.startDate), `${r.startDate} is not ${before}`);
  });

  test("an unknown preset or a bad today throws ApiError", () => {
    const e = throwsApiError(() => presetRange("fortnight", "2026-11-22"));
    assert.match(e.responseStatus.message, /last7Days/); // lists the known presets
    throwsApiError(() => presetRange("today", "22/11/2026"));
  });
});

// ---------------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------------

/** An exact decimal text of `cents` hundredths, the way sumMoney writes amounts (no trailing zeros). */
function centsToDecimal(cents) {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const units = abs / 100n;
  const frac = (abs % 100n).toString().padStart(2, "0").replace(/0+$/, "");
  return `${neg && abs !== 0n ? "-" : ""}${units}${frac ? "." + frac : ""}`;
}

group("money", () => {
  test("ten times 0.1 is exactly 1 (floats say otherwise)", () => {
    const tenths = Array(10).fill(0.1);
    assert.notEqual(tenths.reduce((a, b) => a + b, 0), 1);
    assert.equal(sumMoney(tenths), "1");
    assert.equal(sumMoney([0.1, 0.2]), "0.3");
  });

  test("strings, numbers and BigInts mix", () => {
    assert.equal(sumMoney(["-0.0085", "0.0085", 1]), "1");
    assert.equal(sumMoney(["1e-3", ".5", "+3.50", 10n]), "14.001");
    assert.equal(sumMoney([]), "0");
    assert.equal(sumMoney(["-0.0085"]), "-0.0085");
  });

  test("property: the sum of thousands of random cents amounts is the exact BigInt sum", () => {
    assert.equal(centsToDecimal(-5n), "-0.05");
    assert.equal(centsToDecimal(150n), "1.5");
    const rnd = prng(0xb111);
    let values = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = trial === 0 ? 3000 : randInt(rnd, 0, 150);
      const amounts = [];
      let exact = 0n;
      for (let i = 0; i < n; i++) {
        const cents = randInt(rnd, -10_000_000, 10_000_000);
        exact += BigInt(cents);
        const text = centsToDecimal(BigInt(cents));
        amounts.push(rnd() < 0.5 ? text : cents / 100); // a JSON-style number or Twilio-style text
      }
      values += n;
      assert.equal(sumMoney(amounts), centsToDecimal(exact), `trial ${trial}`);
    }
    assert.ok(values >= 3000);
  });

  test("formatMoney rounds to the currency's precision, half away from zero", () => {
    assert.equal(formatMoney(1234.567, "USD"), "1234.57 USD");
    assert.equal(formatMoney(1234.567, "JPY"), "1235 JPY");
    assert.equal(formatMoney(2.5, "jpy"), "3 JPY");
    assert.equal(formatMoney("1.2345", "KWD"), "1.235 KWD");
    assert.equal(formatMoney("-0.005"), "-0.01 USD");
    assert.equal(formatMoney(7), "7.00 USD");
    assert.equal(formatMoney("0.125", "eur"), "0.13 EUR");
  });

  test("bad amounts and currencies throw ApiError", () => {
    for (const bad of [["abc"], [NaN], [Infinity], ["1e400"], ["1,5"], [{}], [null], [true], ["--1"]]) {
      throwsApiError(() => sumMoney(bad));
    }
    throwsApiError(() => sumMoney("1"));
    throwsApiError(() => sumMoney({ 0: 1, length: 1 }));
    throwsApiError(() => formatMoney("x", "USD"));
    throwsApiError(() => formatMoney(NaN));
    throwsApiError(() => formatMoney(1, "US"));
    throwsApiError(() => formatMoney(1, "U$D"));
  });

  test(
    "a sum beyond the representable range is an error, not a silently wrong number",
    () => {
      const big = "9000000000000"; // 9e12 units = 9e18 micro-units, each fits; the sum does not
      let result;
      try {
        result = sumMoney([big, big]);
      } catch (e) {
        assertApiError(e);
        return;
      }
      assert.equal(result, "18000000000000");
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------------------------

const JANUARY = {
  customers: [
    { customerId: "c2", internationalCosts: 0.1, hasCallRecording: false },
    { customerId: "c1", internationalCosts: 0.2, hasCallRecording: true },
    { customerId: "c3", internationalCosts: 0, hasCallRecording: false },
  ],
};
const FEBRUARY = {
  customers: [
    { customerId: "c1", internationalCosts: 0.1, hasCallRecording: false },
    { customerId: "c4", internationalCosts: "1.005", hasCallRecording: false },
    { customerId: "c2", hasCallRecording: true },
  ],
};

group("billing aggregation", () => {
  test("billingTotals: exact sum and counts", () => {
    assert.deepEqual(billingTotals(JANUARY), {
      internationalCosts: 0.3, // not 0.30000000000000004
      customersBilled: 3,
      customersWithRecording: 1,
      customersWithInternational: 2,
    });
    assert.deepEqual(billingTotals({ customers: [] }), { internationalCosts: 0, customersBilled: 0, customersWithRecording: 0, customersWithInternational: 0 });
    assert.deepEqual(billingTotals({}), billingTotals({ customers: [] }));
  });

  test("mergeBilling: costs add, hasCallRecording ORs, sorted by customerId", () => {
    const merged = mergeBilling([JANUARY, FEBRUARY]);
    assert.deepEqual(merged, {
      customers: [
        { customerId: "c1", internationalCosts: 0.3, hasCallRecording: true },
        { customerId: "c2", internationalCosts: 0.1, hasCallRecording: true },
        { customerId: "c3", internationalCosts: 0, hasCallRecording: false },
        { customerId: "c4", internationalCosts: 1.005, hasCallRecording: false },
      ],
    });
    assert.equal(billingTotals(merged).internationalCosts, 1.405);
    assert.deepEqual(mergeBilling([]), { customers: [] });
    assert.deepEqual(mergeBilling([JANUARY]).customers.map((c) => c.customerId), ["c1", "c2", "c3"]);
  });

  test("topCustomers: highest costs first, ties by customerId, at most n", () => {
    const merged = mergeBilling([JANUARY, FEBRUARY]);
    assert.deepEqual(topCustomers(merged, 2).map((c) => c.customerId), ["c4", "c1"]);
    assert.deepEqual(topCustomers(JANUARY, 0), []);
    assert.equal(topCustomers(JANUARY, 10).length, 3);
    const tie = { customers: [{ customerId: "b", internationalCosts: 1 }, { customerId: "a", internationalCosts: 1 }, { customerId: "c", internationalCosts: 2 }] };
    assert.deepEqual(topCustomers(tie, 3).map((c) => c.customerId), ["c", "a", "b"]);
  });
});

const RECORDS = [
  { category: "calls", startDate: "2026-01-30", endDate: "2026-01-30", count: 3, usage: "10", price: 3, priceUnit: "usd", countUnit: "calls", usageUnit: "minutes" },
  { category: "calls-inbound", startDate: "2026-01-30", count: 1, usage: "4", price: 1 },
  { category: "calls-outbound", startDate: "2026-01-30", count: 2, usage: "6", price: 2 },
  { category: "sms", startDate: "2026-02-02", count: 5, usage: "5", price: "0.0375" },
  { category: "calls", startDate: "2026-02-03", count: 1, usage: "not a number", price: 0.1 },
];

group("summarizeUsage", () => {
  const expectedStarts = {
    daily: ["2026-01-30", "2026-02-02", "2026-02-03"],
    weekly: ["2026-01-26", "2026-02-02"], // ISO weeks start on Monday
    monthly: ["2026-01-01", "2026-02-01"],
  };

  for (const g of [undefined, "daily", "weekly", "monthly"]) {
    test(`granularity ${g ?? "undefined"}: totals never double-count overlapping categories`, () => {
      const s = summarizeUsage(RECORDS, g);
      assert.equal(s.granularity, g ?? "all");
      assert.equal(s.records, 5);
      assert.equal(s.unreadableUsage, 1);
      // calls (3 + 0.1) contains calls-inbound and calls-outbound; sms stands alone.
      assert.equal(s.totalPrice, 3.1375);
      assert.deepEqual(s.categories.map((c) => c.category), ["calls", "calls-inbound", "calls-outbound", "sms"]);
      const calls = s.categories[0];
      assert.deepEqual(calls, { category: "calls", count: 4, usage: "10", price: 3.1, countUnit: "calls", usageUnit: "minutes", priceUnit: "usd" });
      if (g === undefined) {
        assert.deepEqual(s.periods, []);
      } else {
        assert.deepEqual(s.periods.map((p) => p.periodStart), expectedStarts[g]);
        assert.equal(sumMoney(s.periods.map((p) => p.totalPrice)), "3.1375");
        assert.equal(s.periods[0].totalPrice, 3); // calls only, not 3 + 1 + 2
      }
    });

    test(`granularity ${g ?? "undefined"}: summarizeUsageJson(bytes) deep-equals summarizeUsage(records)`, () => {
      const bytes = new TextEncoder().encode(JSON.stringify(RECORDS));
      assert.deepEqual(summarizeUsageJson(bytes, g), summarizeUsage(RECORDS, g));
      assert.deepEqual(summarizeUsageJson(Array.from(bytes), g), summarizeUsage(RECORDS, g)); // number[] too
    });
  }

  test("totalprice wins when present", () => {
    const withTotals = [
      ...RECORDS,
      { category: "totalprice", startDate: "2026-01-30", price: 3.2 },
      { category: "totalprice", startDate: "2026-02-02", price: "0.1375" },
    ];
    const s = summarizeUsage(withTotals, "monthly");
    assert.equal(s.totalPrice, 3.3375);
    assert.deepEqual(s.periods.map((p) => p.totalPrice), [3.2, 0.1375]);
    assert.equal(summarizeUsage(withTotals).totalPrice, 3.3375);
  });

  test("property: seeded random records, totals equal a BigInt reference without double counting", () => {
    const CATS = ["calls", "calls-inbound", "calls-outbound", "callsx", "sms", "sms-inbound", "recordings", "phonenumbers"];
    const rnd = prng(77);
    const isSub = (child, parent) => child !== parent && (parent === "totalprice" || child.startsWith(parent + "-"));
    const reference = (recs) => {
      const by = new Map();
      for (const r of recs) by.set(r.category, (by.get(r.category) ?? 0n) + r.cents);
      if (by.has("totalprice")) return by.get("totalprice");
      const present = [...by.keys()];
      return present.filter((c) => !present.some((p) => isSub(c, p))).reduce((a, c) => a + by.get(c), 0n);
    };
    const monthOf = (d) => d.slice(0, 8) + "01";
    for (let trial = 0; trial < 60; trial++) {
      const withTotal = trial % 4 === 0;
      const recs = [];
      const n = randInt(rnd, 0, 60);
      for (let i = 0; i < n; i++) {
        const cents = BigInt(randInt(rnd, -50_000, 500_000));
        const day = `2026-${String(randInt(rnd, 1, 3)).padStart(2, "0")}-${String(randInt(rnd, 1, 28)).padStart(2, "0")}`;
        recs.push({ category: CATS[randInt(rnd, 0, CATS.length - 1)], startDate: day, count: 1, cents });
      }
      if (withTotal) {
        for (const month of new Set(recs.map((r) => monthOf(r.startDate)))) {
          recs.push({ category: "totalprice", startDate: month, count: 0, cents: BigInt(randInt(rnd, 0, 9_999_999)) });
        }
      }
      const wire = recs.map(({ cents, ...r }) => ({ ...r, price: rnd() < 0.5 ? centsToDecimal(cents) : Number(cents) / 100 }));
      const s = summarizeUsage(wire, "monthly");
      assert.equal(s.totalPrice, Number(centsToDecimal(reference(recs))), `trial ${trial}`);
      for (const p of s.periods) {
        const inMonth = recs.filter((r) => monthOf(r.startDate) === p.periodStart);
        assert.equal(p.totalPrice, Number(centsToDecimal(reference(inMonth))), `trial ${trial} ${p.periodStart}`);
      }
      assert.deepEqual(summarizeUsageJson(new TextEncoder().encode(JSON.stringify(wire)), "monthly"), s);
    }
  });

  test("invalid JSON bytes or shapes throw ApiError", () => {
    const enc = (t) => new TextEncoder().encode(t);
    for (const bad of ["{not json", "", "[1,2]", '{"category":"calls"}', '[{"price":"abc"}]', '[{"count":"x"}]', "[", new Uint8Array([0xff, 0xfe])]) {
      throwsApiError(() => summarizeUsageJson(typeof bad === "string" ? enc(bad) : bad, undefined));
    }
    throwsApiError(() => summarizeUsageJson(enc("[]"), "hourly"));
    throwsApiError(() => summarizeUsage(RECORDS, "hourly"));
    throwsApiError(() => summarizeUsage([{ price: "abc" }], undefined));
  });
});

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

group("CSV", () => {
  test("billingInfoToCsv: header, CRLF, quoting, True/False", () => {
    const csv = billingInfoToCsv({
      customers: [
        { customerId: 'acme, "east"', internationalCosts: 1.5, hasCallRecording: true },
        { customerId: "two\nlines", internationalCosts: "-0.0085" },
        { internationalCosts: 0, hasCallRecording: false },
      ],
    });
    assert.equal(
      csv,
      'CustomerId,InternationalCosts,HasCallRecording\r\n"acme, ""east""",1.5,True\r\n"two\nlines",-0.0085,False\r\n,0,False\r\n',
    );
    assert.equal(billingInfoToCsv({ customers: [] }), "CustomerId,InternationalCosts,HasCallRecording\r\n");
  });

  test("usageRecordsToCsv: the seed's column order, CRLF, quoting", () => {
    const header = "AccountSid,Category,Count,CountUnit,Description,EndDate,Price,PriceUnit,StartDate,Usage,UsageUnit,Uri";
    const csv = usageRecordsToCsv([
      { accountSid: "AC1", category: "calls", count: 3, countUnit: "calls", description: 'Voice, "all"', endDate: "2026-01-31", price: "-0.0085", priceUnit: "usd", startDate: "2026-01-01", usage: "12.5", usageUnit: "minutes", uri: "/2010-04-01/Accounts/AC1/Usage/Records.json?Category=calls" },
      { category: "sms" },
    ]);
    const lines = csv.split("\r\n");
    assert.equal(lines[0], header);
    assert.equal(lines[1], 'AC1,calls,3,calls,"Voice, ""all""",2026-01-31,-0.0085,usd,2026-01-01,12.5,minutes,/2010-04-01/Accounts/AC1/Usage/Records.json?Category=calls');
    assert.equal(lines[2], ",sms,0,,,,0,,,,,");
    assert.equal(lines[3], "");
    assert.equal(lines.length, 4);
    assert.ok(!/[^\r]\n/.test(csv), "every line ends with CRLF");
    assert.equal(usageRecordsToCsv([]), header + "\r\n");
  });
});

// ---------------------------------------------------------------------------------------------
// JSV
// ---------------------------------------------------------------------------------------------

group("JSV", () => {
  test("toJsv writes ServiceStack's compact JSV (nulls omitted, True/False, quoted commas)", () => {
    assert.equal(
      toJsv({ accountId: "acc1", callSid: "CA12", n: null, ok: true, list: ["a", "c,d"] }),
      '{accountId:acc1,callSid:CA12,ok:True,list:[a,"c,d"]}',
    );
    assert.equal(toJsv([1, 2.5, -0.0085, false, null]), '[1,2.5,-0.0085,False,""]');
    assert.equal(toJsv({ a: { b: { c: [] } }, e: {} }), "{a:{b:{c:[]}},e:{}}");
    assert.equal(toJsv('say "hi"'), '"say ""hi"""');
    assert.equal(toJsv(undefined), '""');
  });

  test("fromJsv reads ServiceStack's pretty-printed sample", () => {
    assert.deepEqual(fromJsv("{\n\taccountId: String,\n\tcallSid: String\n}"), { accountId: "String", callSid: "String" });
    assert.deepEqual(fromJsv("{a:{b:[1,2]},c:}"), { a: { b: ["1", "2"] }, c: "" }); // untyped: text
    assert.equal(fromJsv("hello"), "hello");
    assert.deepEqual(fromJsv("{t:12:30}"), { t: "12:30" });
  });

  test("awkward strings round-trip, alone, in lists and as keys", () => {
    const awkward = ["", " ", " lead", "trail ", "a:b", 'q"uote', '""', "x,y", "{br}", "[sq]", "line\nbreak", "cr\r", "tab\tin", "\\back", "null", "True", "üñí ☃ 😀", "nbsp\u00a0", "\u2028", "=&?"];
    for (const s of awkward) {
      assert.equal(fromJsv(toJsv(s)), s, describe(s));
      assert.deepEqual(fromJsv(toJsv([s, s])), [s, s], describe(s));
      assert.deepEqual(fromJsv(toJsv({ [s]: s, k: { [s]: [s] } })), { [s]: s, k: { [s]: [s] } }, describe(s));
    }
  });

  test("property: seeded random strings and shapes round-trip", () => {
    const alphabet = ['"', ":", ",", "{", "}", "[", "]", " ", "\t", "\r", "\n", "\\", "a", "Z", "0", "é", "😀", "\u00a0", "\u000b", "\u0085", "'", "\f"];
    const rnd = prng(5150);
    const str = () => Array.from({ length: randInt(rnd, 0, 8) }, () => alphabet[randInt(rnd, 0, alphabet.length - 1)]).join("");
    for (let i = 0; i < 2000; i++) {
      const v = i % 3 === 0 ? str() : i % 3 === 1 ? [str(), [str()], str()] : { [str()]: str(), nested: { [str()]: [str(), str()] } };
      assert.deepEqual(fromJsv(toJsv(v)), v, describe(v));
    }
  });

  test("malformed JSV throws ApiError", () => {
    for (const bad of ["{a:", "[a,b", "{a:1}x", "{a}", '"unterminated', "]", "{a:1,,}", "[".repeat(200) + "]".repeat(200)]) {
      throwsApiError(() => fromJsv(bad));
    }
  });
});
