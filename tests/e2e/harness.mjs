// The end-to-end harness: a real evo-billing-server (debug build, temp SQLite database, demo
// data, the built dist/) and a real headless Chromium driven by playwright-core. Shared by the
// e2e tests, the screenshots and the benchmark.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);

export const USERS = {
  admin: { userName: "admin@demo.evovoice.io", password: "demo-admin", role: "SystemAdministrator" },
  manager: { userName: "manager@demo.evovoice.io", password: "demo-manager", role: "Manager" },
  customer: { userName: "customer@demo.evovoice.io", password: "demo-customer", role: "Customer" },
};

/** Starts the server on a free port with demo data; resolves to { base, stop }. */
export async function startServer({ demoCalls = 20000, args = [] } = {}) {
  const bin = process.env.EVO_BILLING_SERVER_BIN ?? join(root, "target", "debug", "evo-billing-server");
  const dist = process.env.EVO_BILLING_DIST ?? join(root, "dist");
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run cargo build -p evo-billing-server`);
  if (!existsSync(join(dist, "index.html"))) throw new Error(`no dashboard at ${dist}: run cargo xtask build`);
  const dir = mkdtempSync(join(tmpdir(), "evo-billing-e2e-"));
  const server = spawn(
    bin,
    [
      "--database", `sqlite://${join(dir, "e2e.db")}`,
      "serve", "--listen", "127.0.0.1:0", "--demo-calls", String(demoCalls), "--static-dir", dist,
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  server.stderr.on("data", (d) => (log += d));
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 300 s:\n${log}`)), 300_000);
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/[^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
  });
  return {
    base,
    log: () => log,
    stop() {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CHROMIUM_FLAGS = [
  "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/**
 * A fresh context (no cookies, cold cache) and page at `width` px. Every console error, page
 * error and Content-Security-Policy violation is collected in `page.problems`.
 */
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.problems = [];
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp = window.__csp || [];
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
    window.alert = (m) => {
      window.__alerts = window.__alerts || [];
      window.__alerts.push(String(m));
    };
  });
  page.on("console", (m) => {
    if (m.type() === "error") page.problems.push(`console: ${m.text()} @ ${m.location()?.url ?? ""}`);
  });
  page.on("pageerror", (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

/**
 * Operations the dashboard uses when the server offers them, and does without otherwise (the
 * server's lead is adding them): their 404s are expected until then, and nothing else is.
 */
const PENDING_OPERATIONS = /\/(accounts|customers|billing\/series)(\?|$)/;

/** CSP violations seen by the page since it loaded, plus console and page errors. */
export async function problems(page, { allowHttpErrors = false } = {}) {
  const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
  const list = [...csp.map((c) => `csp: ${c}`), ...page.problems].filter(
    (p) => !(/Failed to load resource: .* 404/.test(p) && PENDING_OPERATIONS.test(p.split(" @ ")[1] ?? "")),
  );
  // A refused request (401/403/400 the test provoked) logs "Failed to load resource" in Chromium.
  return allowHttpErrors ? list.filter((p) => !/Failed to load resource/.test(p)) : list;
}

/** Waits until the view's data is on screen (not loading); on a timeout, says what the page shows. */
export async function settled(page, testid) {
  try {
    await page.waitForSelector(`[data-testid="${testid}"][aria-busy="false"]`, { timeout: 30_000 });
    await page.waitForFunction(
      (t) => document.querySelector(`[data-testid="${t}"]`)?.children.length > 0,
      testid,
      { timeout: 30_000 },
    );
  } catch (e) {
    const shown = await page.evaluate(() => document.querySelector("main")?.innerText ?? document.body.innerText).catch(() => "");
    throw new Error(`${testid} did not settle at ${page.url()}: ${e.message}\n--- the page shows:\n${shown.slice(0, 1500)}`);
  }
}

export async function signIn(page, base, user, next = "") {
  await page.goto(`${base}/app/sign-in${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.fill("#user-name", user.userName);
  await page.fill("#password", user.password);
  await page.click("button[type=submit]");
  await page.waitForSelector('[data-testid="role"]', { timeout: 30_000 });
}

/** The API's answer, with the page's session cookie (same origin). */
export async function api(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { headers: { Accept: "application/json" } });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  }, path);
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Serious and critical axe-core violations of the page as it is. */
export async function axe(page) {
  // Evaluated through the DevTools protocol, so the page's CSP does not block it (and is not
  // weakened for the app).
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
  });
  return result;
}

/** Text of a card's value (`data-testid="card-<id>"`). */
export async function cardValue(page, id) {
  return page.textContent(`[data-testid="card-${id}"] [data-testid="value"]`);
}

/** `1,234.56 USD` → `1234.56`. */
export function amountOf(text) {
  return (text ?? "").replace(/[^0-9.\-]/g, "");
}

/** A number from the API, written with the currency's decimals (the API rounds already). */
export function fixed(n, decimals = 2) {
  return Number(n).toFixed(decimals);
}

/** UTC today as YYYY-MM-DD, and the date `days` before. */
export function utcDay(offsetDays = 0) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offsetDays);
  return d.toISOString().slice(0, 10);
}
