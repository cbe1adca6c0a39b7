// Usage aggregation from the raw JSON bytes of a ListUsageRecords answer:
// core in WebAssembly (`summarizeUsageJson(bytes)`) against idiomatic JavaScript
// (`JSON.parse(new TextDecoder().decode(bytes))` + a `Map` reduce), in the same Node process.
//
// Run by `cargo xtask bench` as `node --expose-gc bench/usage-aggregation.mjs` from the repository
// root. No npm dependencies. Progress goes to stderr; stdout carries the results as markdown:
// table lines start with `|`, notes start with `- ` (xtask copies both into docs/BENCHMARKS.md).
//
// Exit status: non-zero when the WASM result is not exact (a correctness failure). A missed speed
// goal is reported, never asserted.
//
// Environment (optional): BENCH_SIZES=100000,1000000 (record counts), BENCH_SEED=20260101.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import os from "node:os";
import v8 from "node:v8";

// ---------------------------------------------------------------------------------------------
// Heap: 1M records are ~350 MB of JSON, and the JS contender holds the decoded string plus ~1M
// parsed objects at once. Node's default old-space limit depends on the machine's memory; below
// ~3.5 GB, re-run this script with a larger one (the parent only forwards the exit status).
const HEAP_MB = 4096;
if (
  v8.getHeapStatistics().heap_size_limit < 3500 * 2 ** 20 &&
  !process.env.EVO_BENCH_REEXEC
) {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, `--max-old-space-size=${HEAP_MB}`, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, EVO_BENCH_REEXEC: "1" } },
  );
  process.exit(child.status ?? 1);
}

const { summarizeUsageJson } = await import("../pkg/node.mjs");

const log = (...a) => console.error("[bench]", ...a);
const gc = () => globalThis.gc?.();
if (!globalThis.gc) log("warning: run with --expose-gc for comparable timings (no gc between runs)");

const SIZES = (process.env.BENCH_SIZES ?? "100000,1000000")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SEED = Number(process.env.BENCH_SEED ?? 20260101) >>> 0;
const WARMUP = 3;

// ---------------------------------------------------------------------------------------------
// Deterministic data.

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Twilio-style categories; `calls` ⊇ calls-*, `sms` ⊇ sms-*, `phonenumbers` ⊇ phonenumbers-*,
// `totalprice` ⊇ everything. rate: typical price per unit in 1e-4 USD.
const CATEGORIES = [
  { name: "calls", weight: 14, countUnit: "calls", usageUnit: "minutes", description: "Voice Minutes", rate: 130 },
  { name: "calls-inbound", weight: 12, countUnit: "calls", usageUnit: "minutes", description: "Inbound Voice Minutes", rate: 85 },
  { name: "calls-outbound", weight: 12, countUnit: "calls", usageUnit: "minutes", description: "Outbound Voice Minutes", rate: 140 },
  { name: "sms", weight: 12, countUnit: "messages", usageUnit: "messages", description: "SMS Messages", rate: 79 },
  { name: "sms-inbound", weight: 10, countUnit: "messages", usageUnit: "messages", description: "Inbound SMS Messages", rate: 79 },
  { name: "sms-outbound", weight: 10, countUnit: "messages", usageUnit: "messages", description: "Outbound SMS Messages", rate: 79 },
  { name: "recordings", weight: 8, countUnit: "recordings", usageUnit: "minutes", description: "Voice Recordings", rate: 25 },
  { name: "phonenumbers", weight: 6, countUnit: "phonenumbers", usageUnit: "phonenumbers", description: "Phone Numbers", rate: 11500 },
  { name: "phonenumbers-local", weight: 6, countUnit: "phonenumbers", usageUnit: "phonenumbers", description: "Local Phone Numbers", rate: 11500 },
  { name: "totalprice", weight: 10, countUnit: "", usageUnit: "usd", description: "Total Price", rate: 0 },
];
const CAT_INDEX = new Map(CATEGORIES.map((c, i) => [c.name, i]));
const CAT_PICK = [];
CATEGORIES.forEach((c, i) => { for (let k = 0; k < c.weight; k++) CAT_PICK.push(i); });

const DAYS = []; // 365 days of 2026: { text, month (0-11) }
for (let d = new Date(Date.UTC(2026, 0, 1)); d.getUTCFullYear() === 2026; d.setUTCDate(d.getUTCDate() + 1)) {
  DAYS.push({ text: d.toISOString().slice(0, 10), month: d.getUTCMonth() });
}
const MONTHS = Array.from({ length: 12 }, (_, m) => `2026-${String(m + 1).padStart(2, "0")}`);

/** Decimal text of an integer number of 10^-scale units: (123456, 4) → "12.3456", (50, 2) → "0.5". */
function decimalText(units, scale) {
  const neg = units < 0;
  const abs = neg ? -units : units;
  const p = 10 ** scale;
  const int = Math.floor(abs / p);
  let frac = String(abs % p).padStart(scale, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + int + (frac ? "." + frac : "");
}

/**
 * N records, serialized as ONE JSON array (stringified in chunks to bound the heap; the bytes are
 * exactly those of `JSON.stringify(allRecords)`) and UTF-8 encoded. Returns the bytes and the exact
 * expected sums, kept in integer units while generating.
 */
function generate(n, seed) {
  const rnd = mulberry32(seed ^ n);
  const int = (k) => Math.floor(rnd() * k);
  const hex = (len) => { let s = ""; for (let i = 0; i < len; i++) s += "0123456789abcdef"[int(16)]; return s; };
  const accounts = Array.from({ length: 200 }, () => "AC" + hex(32));

  // Exact expectations: per category (BigInt micro-units of price, hundredths of usage, count)
  // and per (month, category).
  const cell = () => ({ count: 0, usage100: 0n, priceMicros: 0n, records: 0 });
  const byCat = CATEGORIES.map(cell);
  const byMonthCat = MONTHS.map(() => CATEGORIES.map(cell));

  let buf = new Uint8Array(Math.max(1024, Math.ceil(n * 380)));
  let len = 0;
  const enc = new TextEncoder();
  const put = (text) => {
    for (;;) {
      const { read, written } = enc.encodeInto(text, buf.subarray(len));
      if (read === text.length) { len += written; return; }
      const bigger = new Uint8Array(buf.length * 2); // ASCII only, so a retry from scratch is safe
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
  };

  const CHUNK = 20_000;
  put("[");
  for (let start = 0; start < n; start += CHUNK) {
    const chunk = [];
    for (let i = start; i < Math.min(n, start + CHUNK); i++) {
      const ci = CAT_PICK[int(CAT_PICK.length)];
      const cat = CATEGORIES[ci];
      const dayIndex = int(365);
      const day = DAYS[dayIndex];
      const end = DAYS[Math.min(364, dayIndex + (rnd() < 0.8 ? 0 : int(7)))];
      const sid = accounts[int(accounts.length)];
      const count = cat.name === "totalprice" ? 0 : 1 + int(rnd() < 0.9 ? 200 : 5000);

      // Price in 1e-4 USD: mostly count × rate, sometimes arbitrary up to 4 decimals, rarely a credit.
      let price4;
      const r = rnd();
      if (cat.name === "totalprice") price4 = int(5_000_000); // up to 499.9999
      else if (r < 0.7) price4 = count * cat.rate;
      else if (r < 0.95) price4 = int(1_000_000); // 0 .. 99.9999
      else price4 = int(100_000_000); // up to 9999.9999
      if (rnd() < 0.003) price4 = -price4;
      const priceText = decimalText(price4, 4);
      const price = Number(priceText);
      // JSON.stringify writes the shortest round-trip text, which must be our decimal text.
      if (String(price) !== priceText && !(price === 0 && priceText.startsWith("-"))) {
        throw new Error(`price ${priceText} would serialize as ${String(price)}`);
      }
      const priceMicros = BigInt(price4) * 100n;

      // Usage: a decimal string with up to 2 places (minutes, messages, numbers, or the usd total).
      const usage100 = cat.name === "totalprice" ? Math.abs(price4) / 100 | 0 : count * (100 + int(600));
      const usage = decimalText(usage100, 2);

      chunk.push({
        accountSid: sid,
        category: cat.name,
        count,
        countUnit: cat.countUnit,
        description: cat.description,
        endDate: end.text,
        price,
        priceUnit: "usd",
        startDate: day.text,
        usage,
        usageUnit: cat.usageUnit,
        uri: `/2010-04-01/Accounts/${sid}/Usage/Records/Daily?Category=${cat.name}&StartDate=${day.text}&EndDate=${end.text}`,
      });

      for (const c of [byCat[ci], byMonthCat[day.month][ci]]) {
        c.count += count;
        c.usage100 += BigInt(usage100);
        c.priceMicros += priceMicros;
        c.records += 1;
      }
    }
    const json = JSON.stringify(chunk);
    put(start === 0 ? json.slice(1, -1) : "," + json.slice(1, -1));
  }
  put("]");
  return { bytes: buf.slice(0, len), byCat, byMonthCat };
}

// ---------------------------------------------------------------------------------------------
// Contenders.

const wasmMonthly = (bytes) => summarizeUsageJson(bytes, "monthly");
const wasmAll = (bytes) => summarizeUsageJson(bytes, undefined);

/** What the WASM side also returns: a grand total without double counting (totalprice wins). */
function jsTotal(cats /* Map category → acc */) {
  const t = cats.get("totalprice");
  if (t) return t.price;
  const names = [...cats.keys()];
  const isSub = (c, p) => c !== p && (p === "totalprice" || (c.startsWith(p) && c[p.length] === "-"));
  let total = 0;
  for (const c of names) if (!names.some((p) => isSub(c, p))) total += cats.get(c).price;
  return total;
}

/** Idiomatic JS, monthly: parse, then one pass into Map(month → Map(category → sums)). */
function jsMonthly(bytes) {
  const records = JSON.parse(new TextDecoder().decode(bytes));
  const byMonth = new Map();
  for (const r of records) {
    const month = r.startDate.slice(0, 7);
    let cats = byMonth.get(month);
    if (cats === undefined) byMonth.set(month, (cats = new Map()));
    let acc = cats.get(r.category);
    if (acc === undefined) cats.set(r.category, (acc = { count: 0, usage: 0, price: 0 }));
    acc.count += r.count;
    acc.usage += parseFloat(r.usage);
    acc.price += r.price;
  }
  // Same shape of answer as the WASM side: periods in order, whole-range categories, totals.
  const overall = new Map();
  const periods = [...byMonth.keys()].sort().map((month) => {
    const cats = byMonth.get(month);
    for (const [c, a] of cats) {
      let o = overall.get(c);
      if (o === undefined) overall.set(c, (o = { count: 0, usage: 0, price: 0 }));
      o.count += a.count;
      o.usage += a.usage;
      o.price += a.price;
    }
    return { month, categories: cats, totalPrice: jsTotal(cats) };
  });
  return { records: records.length, periods, categories: overall, totalPrice: jsTotal(overall) };
}

/** Idiomatic JS, whole range: parse, then one pass into Map(category → sums). */
function jsAll(bytes) {
  const records = JSON.parse(new TextDecoder().decode(bytes));
  const cats = new Map();
  for (const r of records) {
    let acc = cats.get(r.category);
    if (acc === undefined) cats.set(r.category, (acc = { count: 0, usage: 0, price: 0 }));
    acc.count += r.count;
    acc.usage += parseFloat(r.usage);
    acc.price += r.price;
  }
  return { records: records.length, periods: [], categories: cats, totalPrice: jsTotal(cats) };
}

// ---------------------------------------------------------------------------------------------
// Exactness.

const toMicros = (x) => BigInt(Math.round(x * 1e6));
const usageText = (usage100) => decimalText(Number(usage100), 2);

/** Checks a WASM summary against the exact sums; returns a list of mismatches (empty = exact). */
function checkWasm(summary, exp, n, monthly) {
  const bad = [];
  const cmpCats = (where, got, cells) => {
    const want = CATEGORIES.map((c, i) => [c.name, cells[i]]).filter(([, e]) => e.records > 0);
    if (got.length !== want.length) bad.push(`${where}: ${got.length} categories, expected ${want.length}`);
    for (const [name, e] of want) {
      const g = got.find((c) => c.category === name);
      if (!g) { bad.push(`${where}/${name}: missing`); continue; }
      if (toMicros(g.price) !== e.priceMicros) bad.push(`${where}/${name}: price ${g.price}, exact ${decimalText(Number(e.priceMicros), 6)}`);
      if (g.count !== e.count) bad.push(`${where}/${name}: count ${g.count}, expected ${e.count}`);
      if (g.usage !== usageText(e.usage100)) bad.push(`${where}/${name}: usage ${g.usage}, expected ${usageText(e.usage100)}`);
    }
  };
  if (summary.records !== n) bad.push(`records ${summary.records}, expected ${n}`);
  if (summary.unreadableUsage !== 0) bad.push(`unreadableUsage ${summary.unreadableUsage}`);
  cmpCats("all", summary.categories, exp.byCat);
  const total = exp.byCat[CAT_INDEX.get("totalprice")].priceMicros;
  if (toMicros(summary.totalPrice) !== total) bad.push(`totalPrice ${summary.totalPrice}, exact totalprice sum ${decimalText(Number(total), 6)}`);
  if (monthly) {
    const months = MONTHS.map((m, i) => [m, i]).filter(([, i]) => exp.byMonthCat[i].some((c) => c.records > 0));
    if (summary.periods.length !== months.length) bad.push(`${summary.periods.length} periods, expected ${months.length}`);
    for (const [m, i] of months) {
      const p = summary.periods.find((p) => p.periodStart === `${m}-01`);
      if (!p) { bad.push(`period ${m}: missing`); continue; }
      cmpCats(m, p.categories, exp.byMonthCat[i]);
      const t = exp.byMonthCat[i][CAT_INDEX.get("totalprice")];
      if (t.records > 0 && toMicros(p.totalPrice) !== t.priceMicros) bad.push(`period ${m}: totalPrice ${p.totalPrice}`);
    }
  } else if (summary.periods.length !== 0) bad.push(`granularity all: ${summary.periods.length} periods`);
  return bad;
}

/** x·10^6 − exact, computed exactly from the double's bits, as a number (micro-units). */
function floatDriftMicros(x, exactMicros) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e;
  if (expBits === 0) e = -1074;
  else { mant |= 1n << 52n; e = expBits - 1075; }
  if (negative) mant = -mant;
  if (e >= 0) return Number(mant * (1n << BigInt(e)) * 1_000_000n - exactMicros);
  const den = 1n << BigInt(-e);
  const num = mant * 1_000_000n - exactMicros * den; // (x·10^6 − exact)·den, exact
  return Number(num) / Number(den);
}

/** Exact micro-units rounded half away from zero to cents, as toFixed(2) would print it. */
function exactCents(micros) {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const cents = (abs + 5_000n) / 10_000n;
  const text = `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
  return neg && cents !== 0n ? "-" + text : text;
}

/** Float drift of a JS summary: max |drift| in micro-units, toFixed(2) matches, counts exact. */
function checkJs(result, exp, monthly) {
  let maxDrift = 0, microsOff = 0;
  let cents = 0, centsOk = 0, cells = 0, cellsCentsOk = 0, countsOk = true;
  const one = (acc, e, isCategory) => {
    const d = Math.abs(floatDriftMicros(acc.price, e.priceMicros));
    if (d > maxDrift) maxDrift = d;
    if (toMicros(acc.price) !== e.priceMicros) microsOff++;
    const ok = acc.price.toFixed(2) === exactCents(e.priceMicros);
    if (isCategory) { cents++; centsOk += ok; } else { cells++; cellsCentsOk += ok; }
    if (acc.count !== e.count) countsOk = false;
  };
  for (const [name, acc] of result.categories) one(acc, exp.byCat[CAT_INDEX.get(name)], true);
  if (monthly) {
    for (const p of result.periods) {
      const mi = MONTHS.indexOf(p.month);
      for (const [name, acc] of p.categories) one(acc, exp.byMonthCat[mi][CAT_INDEX.get(name)], false);
    }
  }
  const totalDrift = Math.abs(floatDriftMicros(result.totalPrice, exp.byCat[CAT_INDEX.get("totalprice")].priceMicros));
  return { maxDrift, microsOff, cents, centsOk, cells, cellsCentsOk, countsOk, totalDrift, records: result.records };
}

// ---------------------------------------------------------------------------------------------
// Timing.

const now = () => performance.now();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmtInt = (x) => Math.round(x).toLocaleString("en-US");
const fmtMs = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtDrift = (x) => (x === 0 ? "0" : x < 0.001 ? x.toExponential(1) : x.toFixed(3));
const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

/**
 * Runs every contender once per round, rotating the order each round; gc before every run.
 * `repsFor(roundMs)` picks the number of timed rounds from the last warm-up round.
 */
function timeAll(contenders, bytes, warmup, repsFor) {
  const times = contenders.map(() => []);
  const last = contenders.map(() => undefined);
  const lastMs = contenders.map(() => NaN);
  let reps = Infinity;
  for (let round = 0; round < warmup + reps; round++) {
    if (round === warmup) {
      reps = repsFor(lastMs.reduce((a, b) => a + b, 0));
      log(`  ${reps} timed rounds`);
    }
    const k = contenders.length;
    for (let j = 0; j < k; j++) {
      const i = (j + round) % k;
      const idx = round % 2 ? k - 1 - i : i; // also reverse direction every other round
      gc();
      const t0 = now();
      const r = contenders[idx].fn(bytes);
      const dt = now() - t0;
      if (round >= warmup) times[idx].push(dt);
      last[idx] = r;
      lastMs[idx] = dt;
    }
    log(`  round ${round + 1}${Number.isFinite(reps) ? "/" + (warmup + reps) : ""}${round < warmup ? " (warm-up)" : ""}: ` +
      contenders.map((c, i) => `${c.label} ${fmtMs(lastMs[i])}`).join(", ") + " ms");
  }
  return { times, last, reps };
}

/** Median per call of a fast function, over batches. */
function microMedian(fn, batches = 15, perBatch = 200) {
  for (let i = 0; i < perBatch; i++) fn();
  const xs = [];
  for (let b = 0; b < batches; b++) {
    const t0 = now();
    for (let i = 0; i < perBatch; i++) fn();
    xs.push((now() - t0) / perBatch);
  }
  return median(xs);
}

// ---------------------------------------------------------------------------------------------
// Main.

const rows = [];
const notes = [];
const goals = [];
let wasmExact = true;
const t0All = now();
const load0 = os.loadavg()[0];

log(`Node ${process.version}, V8 ${process.versions.v8}, heap limit ${(v8.getHeapStatistics().heap_size_limit / 2 ** 20).toFixed(0)} MB, sizes ${SIZES.join(", ")}`);

// Fixed cost: one record.
{
  const { bytes: one } = generate(1, SEED);
  const empty = new TextEncoder().encode("[]");
  const wasmEmpty = microMedian(() => summarizeUsageJson(empty, undefined));
  const wasmOne = microMedian(() => summarizeUsageJson(one, "monthly"));
  const jsOne = microMedian(() => jsMonthly(one));
  notes.push(`Fixed cost per call: \`[]\` → WASM ${(wasmEmpty * 1000).toFixed(1)} µs; 1 record (${one.length} bytes, monthly) → WASM ${(wasmOne * 1000).toFixed(1)} µs, JS ${(jsOne * 1000).toFixed(1)} µs (negligible next to the per-record cost).`);
  log(notes.at(-1));
}

for (const n of SIZES) {
  log(`generating ${n.toLocaleString("en-US")} records...`);
  let t = now();
  const data = generate(n, SEED);
  const { bytes } = data;
  const mb = bytes.length / 1e6;
  log(`  ${mb.toFixed(1)} MB of JSON in ${((now() - t) / 1000).toFixed(1)} s`);
  gc();

  // Timings: 9 timed rounds (7 when a round of the four contenders takes > 2.5 s, 5 when > 6 s).
  log(`timing N=${n}: ${WARMUP} warm-up rounds, then timed rounds`);
  const contenders = [
    { label: "JS monthly", gran: "monthly", kind: "js", fn: jsMonthly },
    { label: "WASM monthly", gran: "monthly", kind: "wasm", fn: wasmMonthly },
    { label: "JS all", gran: "all", kind: "js", fn: jsAll },
    { label: "WASM all", gran: "all", kind: "wasm", fn: wasmAll },
  ];
  const { times, last, reps } = timeAll(contenders, bytes, WARMUP, (roundMs) => (roundMs < 2500 ? 9 : roundMs < 6000 ? 7 : 5));

  // Correctness, on the results of the last timed runs.
  const badM = checkWasm(last[1], data, n, true), badA = checkWasm(last[3], data, n, false);
  for (const b of [...badM, ...badA].slice(0, 20)) log(`  WASM NOT EXACT: ${b}`);
  const exactM = badM.length === 0, exactA = badA.length === 0;
  if (!exactM || !exactA) wasmExact = false;
  const jm = checkJs(last[0], data, true), ja = checkJs(last[2], data, false);
  last.fill(undefined);
  const med = Object.fromEntries(contenders.map((c, i) => [c.label, median(times[i])]));
  const spread = (i) => `${fmtMs(Math.min(...times[i]))}–${fmtMs(Math.max(...times[i]))}`;

  for (const gran of ["monthly", "all"]) {
    const jsLabel = `JS ${gran}`, wLabel = `WASM ${gran}`;
    const jsMs = med[jsLabel], wMs = med[wLabel];
    const ratio = jsMs / wMs;
    goals.push({ n, gran, ratio });
    const j = gran === "monthly" ? jm : ja;
    const exact = gran === "monthly" ? exactM : exactA;
    const gName = gran === "monthly" ? "`\"monthly\"`" : "`undefined` (whole range)";
    const cellsTotal = j.cents + j.cells;
    const jsExact = `floats: drift ≤ ${fmtDrift(j.maxDrift)} µ$; round to the µ$ ${cellsTotal - j.microsOff}/${cellsTotal}, \`toFixed(2)\` ${j.centsOk + j.cellsCentsOk}/${cellsTotal}`;
    rows.push(`| ${fmtInt(n)} | ${mb.toFixed(1)} | WASM \`summarizeUsageJson(bytes, ${gran === "monthly" ? "\"monthly\"" : "undefined"})\` | ${fmtMs(wMs)} | ${fmtRate(n / (wMs / 1000))} | ${(mb / (wMs / 1000)).toFixed(0)} | ${ratio.toFixed(2)}× | ${exact ? "yes" : "**NO**"} |`);
    rows.push(`| ${fmtInt(n)} | ${mb.toFixed(1)} | JS \`JSON.parse\` + \`Map\` (${gran}) | ${fmtMs(jsMs)} | ${fmtRate(n / (jsMs / 1000))} | ${(mb / (jsMs / 1000)).toFixed(0)} | 1.00× | ${jsExact} |`);
    const ci = contenders.findIndex((c) => c.label === wLabel), cj = contenders.findIndex((c) => c.label === jsLabel);
    notes.push(`N = ${fmtInt(n)}, granularity ${gName}: WASM ${ratio >= 1 ? `${ratio.toFixed(2)}× faster than` : `${(1 / ratio).toFixed(2)}× slower than`} JS (median ${fmtMs(wMs)} ms vs ${fmtMs(jsMs)} ms over ${reps} alternating runs; range WASM ${spread(ci)} ms, JS ${spread(cj)} ms). Goal "WASM at least 1.5× faster than JS": ${ratio >= 1.5 ? "**met**" : "**not met**"}.`);
    notes.push(`N = ${fmtInt(n)}, ${gran}: JS float sums drift by up to ${fmtDrift(j.maxDrift)} micro-dollars from the exact sums (grand total: ${fmtDrift(j.totalDrift)} µ$); ${j.microsOff} of ${j.cents + j.cells} sums are off by ≥ 1 µ$ after \`Math.round(x·10^6)\`; \`toFixed(2)\` matches the exact cents for ${j.centsOk}/${j.cents} categories` +
      (gran === "monthly" ? ` and ${j.cellsCentsOk}/${j.cells} month×category cells` : "") +
      `; counts ${j.countsOk ? "exact" : "NOT exact"}. WASM: ${exact ? "every category" + (gran === "monthly" ? ", month cell" : "") + ", usage text and total exact to the micro-unit" : "NOT EXACT (see stderr)"}.`);
  }

  // Where the time goes (medians of 3, single runs at 1M): JS decode / parse / reduce; WASM copy-in.
  {
    const k = n >= 500_000 ? 1 : 3;
    const m3 = (fn, before) => { const xs = []; for (let i = 0; i < k; i++) { before?.(); gc(); const s = now(); fn(); xs.push(now() - s); } return median(xs); };
    let text, records;
    const dec = m3(() => { text = new TextDecoder().decode(bytes); }, () => { text = undefined; });
    const parse = m3(() => { records = JSON.parse(text); }, () => { records = undefined; });
    const reduce = m3(() => {
      const byMonth = new Map();
      for (const r of records) {
        const month = r.startDate.slice(0, 7);
        let cats = byMonth.get(month);
        if (cats === undefined) byMonth.set(month, (cats = new Map()));
        let acc = cats.get(r.category);
        if (acc === undefined) cats.set(r.category, (acc = { count: 0, usage: 0, price: 0 }));
        acc.count += r.count;
        acc.usage += parseFloat(r.usage);
        acc.price += r.price;
      }
    });
    text = undefined; records = undefined;
    // Same-length input that fails at its first byte: measures the malloc + copy into WASM memory
    // and the call, without parsing.
    const junk = new Uint8Array(bytes.length); junk[0] = 0x5d; // "]"
    const copyIn = m3(() => { try { summarizeUsageJson(junk, undefined); } catch { /* expected */ } });
    notes.push(`N = ${fmtInt(n)} breakdown (${k === 1 ? "single runs" : `medians of ${k}`}, same process): JS \`TextDecoder.decode\` ${fmtMs(dec)} ms + \`JSON.parse\` ${fmtMs(parse)} ms + Map reduce (monthly) ${fmtMs(reduce)} ms; WASM copy of the bytes into linear memory ${fmtMs(copyIn)} ms of its ${fmtMs(med["WASM monthly"])} ms (the rest is the byte scanner, the roll-up and the conversion of the small result).`);
    log(notes.at(-1));
  }
  gc();
}

{
  const ratios = goals.map((g) => g.ratio);
  const met = goals.filter((g) => g.ratio >= 1.5).length;
  notes.push(`Goal "WASM at least 1.5× faster than JS" overall: ${met === goals.length ? "**met**" : met === 0 ? "**not met**" : `**partly met** (${met}/${goals.length})`} — JS/WASM median ratios ${goals.map((g) => `${g.ratio.toFixed(2)}× (N = ${fmtInt(g.n)}, ${g.gran})`).join(", ")}${ratios.length ? `; range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×` : ""}.`);
}
notes.push(`Data: seeded mulberry32 (seed ${SEED}); ${CATEGORIES.length} categories including the roll-ups calls, sms, phonenumbers and totalprice; dates spread at random over 2026 (not sorted); prices are JSON numbers with up to 4 decimals (0.3% negative); usage is a decimal string. MB = 10^6 bytes of UTF-8 JSON; the same bytes feed both contenders. Ratio = JS median / WASM median (> 1: WASM faster).`);
notes.push(`Node ${process.version} (V8 ${process.versions.v8}), ${process.arch}; ${WARMUP} warm-up rounds, contenders alternated and gc() before each run; total bench time ${((now() - t0All) / 1000).toFixed(0)} s; 1-min load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end on ${os.cpus().length} CPUs (> CPUs means other work competed for the cores).`);
if (!wasmExact) notes.push(`**FAILURE: the WASM result was not exact** (details on stderr).`);

console.log("| records | JSON size MB | contender | median ms | records/s | MB/s | ratio vs JS | exact? |");
console.log("|---:|---:|---|---:|---:|---:|---:|---|");
for (const r of rows) console.log(r);
console.log("");
for (const n of notes) console.log(`- ${n}`);

if (!wasmExact) process.exitCode = 1;
