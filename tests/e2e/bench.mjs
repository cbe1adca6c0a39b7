// `cargo xtask bench web`: the dashboard's transfer size and its paint times in headless
// Chromium against a local server with demo data. Writes a Markdown section (for
// docs/BENCHMARKS.md) to $EVO_BILLING_BENCH_OUT.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { gzipSync } from "node:zlib";
import os from "node:os";
import { USERS, launch, newPage, startServer } from "./harness.mjs";

const RUNS = 7;
const loadAtStart = os.loadavg().map((x) => x.toFixed(2)).join(" / ");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const files = (process.env.EVO_BILLING_BENCH_FILES ?? "").split("\n").filter(Boolean);

const sizes = files.map((f) => {
  const bytes = readFileSync(f);
  return { name: basename(f), raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const gzipTotal = sizes.reduce((s, f) => s + f.gzip, 0);

async function signedInContext(browser, base, width = 1280) {
  const page = await newPage(browser, { width });
  const r = await page.context().request.post(`${base}/auth/credentials`, {
    data: { userName: USERS.manager.userName, password: USERS.manager.password },
  });
  if (!r.ok()) throw new Error(`sign-in failed: ${r.status()}`);
  return page;
}

/**
 * Waits for `performance.mark("evo:painted:<view>")` newer than `after` (ms since time origin)
 * and returns its time. A PerformanceObserver in the page, not polling: a poll every few ms is
 * main-thread work of the benchmark's own, landing right when the app's data arrives.
 */
async function paintedAfter(page, view, after) {
  return page.evaluate(
    ([v, t]) =>
      new Promise((resolve, reject) => {
        const name = `evo:painted:${v}`;
        const newest = () => {
          const marks = performance.getEntriesByName(name).filter((m) => m.startTime > t);
          return marks.length ? marks[marks.length - 1].startTime : null;
        };
        const found = newest();
        if (found !== null) return resolve(found);
        const timer = setTimeout(() => {
          observer.disconnect();
          reject(new Error(`no ${name} after ${t} ms within 30 s`));
        }, 30_000);
        const observer = new PerformanceObserver(() => {
          const at = newest();
          if (at === null) return;
          observer.disconnect();
          clearTimeout(timer);
          resolve(at);
        });
        observer.observe({ type: "mark" });
      }),
    [view, after],
  );
}

/** In-page: does `action` and returns performance.now() just before it. */
async function timed(page, action, arg) {
  return page.evaluate(([a, x]) => {
    const t0 = performance.now();
    if (a === "preset") {
      const s = document.querySelector("#range-preset");
      s.value = x;
      s.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (a === "sort") {
      document.querySelector(`button[data-sort="${x}"]`).click();
    } else if (a === "filter") {
      const i = document.querySelector("#customer-filter");
      i.value = x;
      i.dispatchEvent(new Event("input", { bubbles: true }));
    }
    return t0;
  }, [action, arg]);
}

const server = await startServer({ demoCalls: Number(process.env.EVO_BILLING_BENCH_CALLS ?? 520000) });
const browser = await launch();
const results = {};
const chromiumVersion = browser.version();
try {
  // Cold navigation to the overview's data painted: a new context each run (empty cache).
  const nav = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await signedInContext(browser, server.base);
    await page.goto(`${server.base}/app/overview?account=acc-northwind`);
    nav.push(await paintedAfter(page, "overview", 0));
    await page.context().close();
  }
  results.nav = median(nav);

  // Preset change to new data painted.
  const page = await signedInContext(browser, server.base);
  await page.goto(`${server.base}/app/overview?account=acc-northwind`);
  let last = await paintedAfter(page, "overview", 0);
  const presets = ["lastMonth", "last7Days", "thisMonth", "quarterToDate", "last30Days", "yesterday", "today"];
  const preset = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = await timed(page, "preset", presets[i % presets.length]);
    last = await paintedAfter(page, "overview", Math.max(t0, last));
    preset.push(last - t0);
  }
  results.preset = median(preset);

  await page.context().close();
} finally {
  await browser.close();
  server.stop();
}

// The customers table of an account with 10,000 customers: first paint, sort, filter.
const bigCustomers = Number(process.env.EVO_BILLING_BENCH_CUSTOMERS ?? 10000);
const big = await startServer({
  demoCalls: Number(process.env.EVO_BILLING_BENCH_BIG_CALLS ?? 400000),
  args: ["--demo-customers", String(bigCustomers)],
});
const browser2 = await launch();
try {
  const first = [];
  for (let i = 0; i < RUNS; i++) {
    const p = await signedInContext(browser2, big.base);
    await p.goto(`${big.base}/app/customers?account=acc-northwind&range=last30Days`);
    first.push(await paintedAfter(p, "customers", 0));
    await p.context().close();
  }
  results.customersFirst = median(first);
  results.customersFirstAll = first;
  const page = await signedInContext(browser2, big.base);
  await page.goto(`${big.base}/app/customers?account=acc-northwind&range=last30Days`);
  let last = await paintedAfter(page, "customers", 0);
  results.customerRows = await page.$eval('[data-testid="table-summary"]', (e) => e.textContent);
  const sort = [];
  for (const key of ["cost", "name", "subtree", "id", "cost", "recording", "name"]) {
    const t0 = await timed(page, "sort", key);
    last = await paintedAfter(page, "customers", Math.max(t0, last));
    sort.push(last - t0);
  }
  results.sort = median(sort);
  const filter = [];
  for (const q of ["1", "12", "123", "", "9", "99", ""]) {
    const t0 = await timed(page, "filter", q);
    last = await paintedAfter(page, "customers", Math.max(t0, last));
    filter.push(last - t0);
  }
  results.filter = median(filter);
  await page.context().close();
} finally {
  await browser2.close();
  big.stop();
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n) => `${Math.round(n)} ms`;
const verdict = (v, budget) => (v <= budget ? "within budget" : "**over budget**");
const md = `## Dashboard (web/) — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC

Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), headless Chromium ${chromiumVersion}, server: the release build (as \`cargo xtask serve\` runs it) on SQLite, on localhost; demo data (520,000 calls) for the overview, and \`--demo-customers ${bigCustomers}\` for the customers table. Medians of ${RUNS} runs; the first table paint's runs were ${results.customersFirstAll.map((x) => Math.round(x)).join(", ")} ms. Load average when the bench started: ${loadAtStart}.

| what | measured | budget | |
|---|---|---|---|
| transfer size of the app, gzip -9 (HTML + JS + wasm + CSS) | ${kb(gzipTotal)} (${gzipTotal.toLocaleString("en-US")} bytes) | 300 KiB (307,200 bytes) | ${verdict(gzipTotal, 300 * 1024)} |
| cold navigation to the overview's data painted | ${ms(results.nav)} | 1,000 ms | ${verdict(results.nav, 1000)} |
| preset change to new data painted | ${ms(results.preset)} | 300 ms | ${verdict(results.preset, 300)} |
| customers table, first paint (cold, ${results.customerRows}) | ${ms(results.customersFirst)} | 500 ms | ${verdict(results.customersFirst, 500)} |
| customers table, sort to repaint | ${ms(results.sort)} | 100 ms | ${verdict(results.sort, 100)} |
| customers table, filter to repaint | ${ms(results.filter)} | 100 ms | ${verdict(results.filter, 100)} |

Files: ${sizes.map((f) => `${f.name} ${kb(f.raw)} (${kb(f.gzip)} gzip)`).join("; ")}.
`;
console.log(md);
if (process.env.EVO_BILLING_BENCH_OUT) writeFileSync(process.env.EVO_BILLING_BENCH_OUT, md);
