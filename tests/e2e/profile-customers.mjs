// Where the customers table's cold first paint goes: a diagnostic, not a test. Starts a server
// with `--demo-customers N`, opens /app/customers cold (new signed-in context) RUNS times and
// prints, per run, the network (Resource Timing), the WebAssembly compile and instantiate, each
// API call's start / answer / body read, and the renderer main thread's busy stretches from a
// Chromium trace, all in ms from navigation start.
//
//   EVO_BILLING_SERVER_BIN=target/release/evo-billing-server node tests/e2e/profile-customers.mjs
//
// Env: PROFILE_RUNS (default 5), PROFILE_CUSTOMERS (10000), PROFILE_TRACE=1 (main-thread tasks),
// PROFILE_BASE (use a running server instead of starting one).
import { USERS, launch, newPage, startServer } from "./harness.mjs";

const RUNS = Number(process.env.PROFILE_RUNS ?? 5);
const CUSTOMERS = Number(process.env.PROFILE_CUSTOMERS ?? 10000);
const TRACE = process.env.PROFILE_TRACE === "1";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r = (x) => (x == null ? "-" : Math.round(x));

// In the page, before anything runs: times of wasm compile/instantiate and of each fetch.
function instrument() {
  const mark = (n) => performance.mark(n);
  const W = WebAssembly;
  for (const name of ["instantiateStreaming", "compileStreaming", "instantiate", "compile"]) {
    const orig = W[name];
    if (!orig) continue;
    W[name] = function (...args) {
      mark(`wasm:${name}:start`);
      return orig.apply(this, args).then((v) => {
        mark(`wasm:${name}:end`);
        return v;
      });
    };
  }
  const origFetch = window.fetch;
  let n = 0;
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input.url;
    const id = `${++n}:${new URL(url, location.href).pathname}`;
    mark(`fetch:${id}:start`);
    return origFetch.call(this, input, init).then((resp) => {
      mark(`fetch:${id}:headers`);
      const ab = resp.arrayBuffer.bind(resp);
      resp.arrayBuffer = () =>
        ab().then((b) => {
          mark(`fetch:${id}:body`);
          // The next macrotask: when the wasm that consumed the body gave the thread back.
          setTimeout(() => mark(`fetch:${id}:consumed`), 0);
          return b;
        });
      return resp;
    });
  };
}

async function signedIn(browser, base) {
  const page = await newPage(browser, { width: 1280 });
  const res = await page.context().request.post(`${base}/auth/credentials`, {
    data: { userName: USERS.manager.userName, password: USERS.manager.password },
  });
  if (!res.ok()) throw new Error(`sign-in failed: ${res.status()}`);
  await page.addInitScript(instrument);
  return page;
}

/** Main-thread busy stretches (top-level tasks ≥ 3 ms) from a Chromium trace, with what they did. */
function mainThreadTasks(traceJson, navStartTs) {
  const events = JSON.parse(traceJson).traceEvents;
  const threads = new Map();
  for (const e of events) {
    if (e.name === "thread_name" && e.args?.name === "CrRendererMain") threads.set(`${e.pid}:${e.tid}`, true);
  }
  // The renderer that navigated: the one with our user-timing marks.
  const markEv = events.find((e) => e.name === "evo:painted:customers");
  const key = markEv ? `${markEv.pid}:${[...threads.keys()].find((k) => k.startsWith(`${markEv.pid}:`))?.split(":")[1]}` : [...threads.keys()][0];
  const nav = events.find((e) => e.name === "navigationStart" && `${e.pid}:${e.tid}` === key);
  const t0 = nav?.ts ?? navStartTs;
  const main = events.filter((e) => `${e.pid}:${e.tid}` === key && e.ph === "X" && e.dur != null);
  const tasks = main.filter((e) => e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask");
  const out = [];
  for (const t of tasks) {
    if (t.dur < 3000 || t.ts < t0) continue;
    const inner = main.filter((e) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e !== t && e.dur > 1000);
    const names = new Map();
    for (const e of inner) {
      const label = e.name === "FunctionCall" || e.name === "v8.callFunction" ? `${e.name}(${e.args?.data?.functionName ?? ""})` : e.name;
      names.set(label, Math.max(names.get(label) ?? 0, e.dur));
    }
    const top = [...names.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n, d]) => `${n} ${r(d / 1000)}`);
    out.push({ start: (t.ts - t0) / 1000, dur: t.dur / 1000, what: top.join(", ") });
  }
  return out;
}

let server;
// PROFILE_BASES=a,b,…: servers already running, one run on each in turn (side by side under the
// same load); prints only the paint times.
const bases = (process.env.PROFILE_BASES ?? "").split(",").filter(Boolean);
let base = process.env.PROFILE_BASE ?? bases[0];
if (!base) {
  server = await startServer({
    demoCalls: Number(process.env.PROFILE_CALLS ?? 400000),
    args: ["--demo-customers", String(CUSTOMERS)],
  });
  base = server.base;
}
const browser = await launch();
const summary = [];
const perBase = new Map(bases.map((b) => [b, []]));
try {
  for (let i = 0; i < RUNS * Math.max(1, bases.length); i++) {
    if (bases.length) base = bases[i % bases.length];
    const page = await signedIn(browser, base);
    if (TRACE) await browser.startTracing(page, { categories: ["devtools.timeline", "blink.user_timing", "v8.execute", "disabled-by-default-devtools.timeline", "v8.wasm", "loading"] });
    await page.goto(`${base}/app/customers?account=acc-northwind&range=last30Days`);
    await page.waitForFunction(() => performance.getEntriesByName("evo:painted:customers").length > 0, null, { timeout: 30_000, polling: 5 });
    await page.waitForTimeout(50);
    const data = await page.evaluate(() => ({
      nav: performance.getEntriesByType("navigation")[0].toJSON(),
      res: performance.getEntriesByType("resource").map((e) => e.toJSON()),
      marks: performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]),
      origin: performance.timeOrigin,
    }));
    let tasks = [];
    if (TRACE) tasks = mainThreadTasks((await browser.stopTracing()).toString(), 0);
    await page.context().close();

    const painted = data.marks.find(([n]) => n === "evo:painted:customers")[1];
    summary.push(painted);
    if (bases.length) {
      perBase.get(base).push(painted);
      continue;
    }
    console.log(`\n=== run ${i + 1}: painted at ${r(painted)} ms`);
    const n = data.nav;
    console.log(`document: request ${r(n.requestStart)} response ${r(n.responseStart)}-${r(n.responseEnd)} DOMContentLoaded ${r(n.domContentLoadedEventEnd)}`);
    for (const e of data.res) {
      const name = new URL(e.name).pathname + (new URL(e.name).search.length > 1 ? "?…" : "");
      console.log(
        `  ${name.padEnd(48)} start ${String(r(e.startTime)).padStart(4)} req ${String(r(e.requestStart)).padStart(4)} ttfb ${String(r(e.responseStart)).padStart(4)} end ${String(r(e.responseEnd)).padStart(4)}  ${e.encodedBodySize} B → ${e.decodedBodySize} B`,
      );
    }
    for (const [m, t] of data.marks) console.log(`  mark ${String(r(t)).padStart(4)} ${m}`);
    for (const t of tasks) console.log(`  task ${String(r(t.start)).padStart(4)} +${String(r(t.dur)).padStart(3)} ${t.what}`);
  }
} finally {
  await browser.close();
  server?.stop();
}
for (const [b, xs] of perBase) console.log(`${b}: median ${r(median(xs))} ms (${xs.map(r).join(", ")})`);
if (!bases.length) console.log(`\npainted: ${summary.map(r).join(", ")} ms; median ${r(median(summary))} ms`);
