// CORS from a real browser. The real server (debug build, a temporary SQLite file, demo data)
// runs with `--cors-origin` naming one loopback origin; two small static servers on other
// loopback ports serve the same page (page/index.html), which imports the built npm package
// (../../pkg, web build, `await init()`) and calls the server with its BillingClient. Headless
// Chromium opens the page on the listed origin, which must get billing data (bearer token and
// session cookie), and on an unlisted one, which the browser must block.
// Run: node --test tests/cors/cors.e2e.mjs (cargo xtask test does, after building pkg/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const pkg = join(root, "pkg");
const bin = process.env.EVO_BILLING_SERVER_BIN ?? join(root, "target", "debug", "evo-billing-server");

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

/** A static server on a free loopback port: / is the page, /pkg/* the built package. */
function pageServer() {
  const page = readFileSync(join(here, "page", "index.html"));
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    let body = null;
    if (path === "/" || path === "/index.html") body = page;
    else if (path.startsWith("/pkg/")) {
      const file = normalize(join(pkg, path.slice(5)));
      if (file.startsWith(pkg) && existsSync(file)) body = readFileSync(file);
    }
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const ext = path.slice(path.lastIndexOf("."));
    res.writeHead(200, { "content-type": TYPES[ext] ?? "text/html" }).end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` })),
  );
}

/** The server binary with `args`; resolves to its base URL once it listens. */
function startApi(dir, args) {
  const child = spawn(
    bin,
    [
      "--database", `sqlite://${join(dir, "cors.db")}`,
      "serve", "--listen", "127.0.0.1:0", "--demo-calls", "3000", "--static-dir", join(dir, "none"),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120 s:\n${log}`)), 120_000);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/[^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${log}`));
    });
  });
  return { child, base, log: () => log };
}

let dir, api, base, listed, unlisted, browser;

before(async () => {
  assert.ok(existsSync(bin), `no server binary at ${bin}: run cargo build -p evo-billing-server`);
  assert.ok(existsSync(join(pkg, "evo_billing.js")), `no package at ${pkg}: run cargo xtask build`);
  dir = mkdtempSync(join(tmpdir(), "evo-billing-cors-"));
  [listed, unlisted] = await Promise.all([pageServer(), pageServer()]);
  api = startApi(dir, ["--cors-origin", listed.origin]);
  base = await api.base;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ],
  });
});

after(async () => {
  await browser?.close();
  listed?.server.close();
  unlisted?.server.close();
  api?.child.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the page on `origin` (a fresh profile each time) and returns its result and console. */
async function runPage(origin) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(m.text()));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(`${origin}/?api=${encodeURIComponent(base)}`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => window.result);
  await context.close();
  return { result, consoleLines };
}

test("a page on a listed origin gets billing data through the package's BillingClient", async () => {
  const { result, consoleLines } = await runPage(listed.origin);
  assert.equal(result.loadError, undefined, JSON.stringify(result));
  assert.equal(result.error, undefined, `${JSON.stringify(result)}\n${consoleLines.join("\n")}`);
  assert.deepEqual(result.signedIn, { roles: ["Manager"], bearer: true });
  assert.ok(result.billing.customers > 5, JSON.stringify(result.billing));
  assert.ok(result.billing.sorted && result.billing.costs, JSON.stringify(result.billing));
  assert.ok(result.usageCategories >= 12, JSON.stringify(result));
  // The 403 came through with its ResponseStatus (CORS headers on errors too).
  assert.deepEqual(
    [result.otherAccount.status, result.otherAccount.errorCode],
    [403, "Forbidden"],
    JSON.stringify(result.otherAccount),
  );
  // Credentials: the session cookie set by a cross-origin sign-in signs the next request in.
  assert.equal(result.cookieSignedIn, true, JSON.stringify(result));
});

test("a page on an unlisted origin is blocked by the browser", async () => {
  const { result, consoleLines } = await runPage(unlisted.origin);
  assert.equal(result.loadError, undefined, JSON.stringify(result));
  assert.equal(result.signedIn, undefined, JSON.stringify(result));
  // No answer reached the page: the client reports a network error (status 0).
  assert.equal(result.error?.status, 0, JSON.stringify(result));
  assert.ok(
    consoleLines.some((l) => l.includes("CORS policy")),
    `no CORS message in the console:\n${consoleLines.join("\n")}`,
  );
});

test("the server refuses a bad --cors-origin at startup", async () => {
  const bad = startApi(dir, ["--cors-origin", "http://127.0.0.1:1/app"]);
  await assert.rejects(bad.base, /exited/);
  assert.match(bad.log(), /not an origin/);
});
