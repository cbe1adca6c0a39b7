// The npm package against the real evo-billing server: a real process on loopback, on a fresh
// SQLite database with a small demo data set. `cargo xtask test` builds the server and passes
// its path in EVO_BILLING_SERVER_BIN.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { BillingClient, presetRange, summarizeUsage, sumMoney } from "evo-billing";

const here = fileURLToPath(new URL(".", import.meta.url));
const serverBin =
  process.env.EVO_BILLING_SERVER_BIN ?? join(here, "..", "target", "debug", "evo-billing-server");

let server;
let base;
let dir;

const MANAGER = { userName: "manager@demo.evovoice.io", password: "demo-manager" };
const CUSTOMER = { userName: "customer@demo.evovoice.io", password: "demo-customer" };
const ACCOUNT = "acc-northwind";
const OTHER_ACCOUNT = "acc-contoso";

before(async () => {
  assert.ok(
    existsSync(serverBin),
    `the server binary is missing at ${serverBin}: run \`cargo build -p evo-billing-server\` (cargo xtask test does)`,
  );
  dir = mkdtempSync(join(tmpdir(), "evo-billing-node-"));
  server = spawn(
    serverBin,
    [
      "--database", `sqlite://${join(dir, "test.db")}`,
      "serve", "--listen", "127.0.0.1:0", "--demo-calls", "4000", "--static-dir", join(dir, "none"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  server.stderr.on("data", (d) => (log += d));
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120 s:\n${log}`)), 120_000);
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
});

after(() => {
  server?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the package against the real server", () => {
  test("sign in, then billing for last month through the client", async () => {
    const client = new BillingClient(base);
    const auth = await client.authenticate(MANAGER);
    assert.ok(auth.bearerToken?.length >= 32);
    assert.deepEqual(auth.roles, ["Manager"]);
    const status = await client.authStatus();
    assert.equal(status.isAuthenticated, true);
    assert.deepEqual(status.accountIds, [ACCOUNT]);

    const range = presetRange("last12Months");
    const billing = await client.getBilling({ accountId: ACCOUNT, ...range });
    assert.ok(billing.customers.length > 5, "demo customers are billed");
    const ids = billing.customers.map((c) => c.customerId);
    assert.deepEqual(ids, [...ids].sort(), "sorted by customerId");
    for (const c of billing.customers) {
      assert.equal(typeof c.internationalCosts, "number");
      assert.equal(Math.round(c.internationalCosts * 100) / 100, c.internationalCosts, "rounded to cents");
    }
  });

  test("the server's 403 and 401 arrive as ApiErrors with ResponseStatus", async () => {
    const client = new BillingClient(base);
    await client.authenticate(MANAGER);
    await assert.rejects(
      client.getBilling({ accountId: OTHER_ACCOUNT, startDate: "2026-01-01", endDate: "2026-01-31" }),
      (e) => e.name === "ApiError" && e.status === 403 && e.responseStatus.errorCode === "Forbidden",
    );
    const anonymous = new BillingClient(base);
    await assert.rejects(
      anonymous.getBilling({ accountId: ACCOUNT, startDate: "2026-01-01", endDate: "2026-01-31" }),
      (e) => e.status === 401 && e.responseStatus.errorCode === "Unauthorized",
    );
    await assert.rejects(
      anonymous.authenticate({ userName: MANAGER.userName, password: "wrong password" }),
      (e) => e.status === 401 && e.responseStatus.message === "Invalid Username or Password",
    );
  });

  test("usage records: the seed's shape, and the WASM roll-up agrees with the server's totalprice", async () => {
    const client = new BillingClient(base);
    await client.authenticate(MANAGER);
    const range = presetRange("last12Months");
    const records = await client.listUsageRecords({ accountId: ACCOUNT, ...range });
    const categories = records.map((r) => r.category);
    for (const c of ["calls", "calls-inbound", "calls-outbound", "sms", "phonenumbers", "totalprice"]) {
      assert.ok(categories.includes(c), `category ${c}`);
    }
    const total = records.find((r) => r.category === "totalprice").price;
    const summary = summarizeUsage(records);
    assert.equal(summary.totalPrice, total, "no double counting of roll-ups");
    const fast = await client.summarizeUsage({ accountId: ACCOUNT, ...range, granularity: "monthly" });
    assert.ok(fast.periods.length >= 12);
    // Per-period totals are each rounded by the server: their exact sum is within a cent per period.
    const periodSum = Number(sumMoney(fast.periods.map((p) => p.totalPrice)));
    assert.ok(Math.abs(periodSum - total) <= 0.01 * fast.periods.length);
    // A Customer may not list usage records.
    const customer = new BillingClient(base);
    await customer.authenticate(CUSTOMER);
    await assert.rejects(customer.listUsageRecords({ accountId: ACCOUNT, ...range }), (e) => e.status === 403);
  });

  test("NewBillable: validated before sending, then idempotent on the server", async () => {
    const client = new BillingClient(base);
    await client.authenticate(MANAGER);
    await assert.rejects(client.newBillable({ callSid: "CA-node-1" }), (e) => {
      assert.equal(e.status, 400);
      assert.deepEqual(
        e.responseStatus.errors.map((x) => x.fieldName),
        ["SessionId", "AccountId", "CustomerId"],
      );
      return true;
    });
    const billing = await client.getBilling({ accountId: ACCOUNT, ...presetRange("last12Months") });
    const customerId = billing.customers[0].customerId;
    const request = { accountId: ACCOUNT, customerId, callSid: "CA-node-1" };
    assert.equal(await client.newBillable(request), undefined);
    assert.equal(await client.newBillable(request), undefined, "reporting twice succeeds");
    const results = await client.newBillables([request, { ...request, callSid: "CA-node-2" }]);
    assert.deepEqual(results.map((r) => [r.callSid, r.duplicate]), [["CA-node-1", true], ["CA-node-2", false]]);
  });

  test("BillingReport: queued, then Completed with a download link; list, get, delete", async () => {
    const client = new BillingClient(base);
    await client.authenticate(MANAGER);
    const range = presetRange("lastMonth");
    const queued = await client.billingReport({ accountId: ACCOUNT, ...range, includeCustomerIds: true });
    assert.equal(queued.status, "Queued");
    let report = queued;
    for (let i = 0; i < 200 && report.status !== "Completed" && report.status !== "Error"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      report = await client.getReport(queued.id);
    }
    assert.equal(report.status, "Completed", JSON.stringify(report));
    assert.ok(report.downloadLink.endsWith(`/reports/${queued.id}/download.csv`));
    const list = await client.listReports();
    assert.ok(list.some((r) => r.id === queued.id));
    const csv = await fetch(client.reportDownloadUrl(queued.id), {
      headers: { authorization: `Bearer ${(await new BillingClient(base).authenticate(MANAGER)).bearerToken}` },
    });
    assert.equal(csv.status, 200);
    assert.match(await csv.text(), /^CustomerId,Customer,Breadcrumb,/);
    assert.equal(await client.deleteReport(queued.id), undefined);
    await assert.rejects(client.getReport(queued.id), (e) => e.status === 404);
  });

  test("logout ends the session", async () => {
    const client = new BillingClient(base);
    await client.authenticate(MANAGER);
    const token = (await new BillingClient(base).authenticate(MANAGER)).bearerToken;
    const other = new BillingClient(base, { bearerToken: token });
    await other.logout();
    const again = new BillingClient(base, { bearerToken: token });
    const status = await again.authStatus();
    assert.equal(status.isAuthenticated, false, "the revoked token no longer signs in");
    assert.equal((await client.authStatus()).isAuthenticated, true, "other sessions are unaffected");
  });
});
