// End-to-end tests of the dashboard in a real headless Chromium against a real server with demo
// data. Run by `cargo xtask test` (node --test). Every page is also checked with axe-core and
// for Content-Security-Policy violations.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  USERS, amountOf, api, axe, cardValue, launch, newPage, problems, settled, signIn, startServer, utcDay,
} from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({ demoCalls: 20000 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const cents = (n) => Math.round(Number(n) * 100);
const money = (c) => (c / 100).toFixed(2);

async function noProblems(page, what, opts) {
  assert.deepEqual(await problems(page, opts), [], `${what}: console errors or CSP violations`);
}

async function noAxe(page, what) {
  assert.deepEqual(await axe(page), [], `${what}: serious or critical accessibility violations`);
}

describe("sign-in and roles", () => {
  for (const [key, user] of Object.entries(USERS)) {
    test(`${key} signs in; name and role always shown; Usage only for admin and manager`, async () => {
      const page = await newPage(browser);
      await page.goto(`${server.base}/`);
      // Not signed in: the app sends us to sign-in.
      await page.waitForURL(/\/app\/sign-in/);
      await noAxe(page, "sign-in");
      await signIn(page, server.base, user);
      await page.waitForURL(/\/app\/overview/);
      assert.equal(await page.textContent('[data-testid="role"]'), user.role);
      assert.match(await page.textContent('[data-testid="who"]'), new RegExp(user.userName.replace(".", "\\.")));
      await settled(page, "overview");
      await noProblems(page, `${key} overview`);
      const usageLink = await page.$('header nav a[href^="/app/usage"]');
      if (key === "customer") {
        assert.equal(usageLink, null, "no Usage link for a Customer");
        await page.goto(`${server.base}/app/usage`);
        await page.waitForSelector('[data-testid="usage-refused"]');
        assert.equal(await page.$('[data-testid="usage"]'), null, "no usage view");
      } else {
        assert.ok(usageLink, "Usage link for admin and manager");
      }
      await page.context().close();
    });
  }
});

describe("overview", () => {
  test("figures equal GetBilling and ListUsageRecords to the cent, for the range and the previous one", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.manager);
    const from = utcDay(-29);
    const to = utcDay(0);
    await page.goto(`${server.base}/app/overview?account=acc-northwind&from=${from}&to=${to}`);
    await settled(page, "overview");
    const billing = (await api(page, `/billing?accountId=acc-northwind&startDate=${from}&endDate=${to}`)).body;
    const usage = (await api(page, `/billing/usage?accountId=acc-northwind&startDate=${from}&endDate=${to}`)).body;
    const intl = billing.customers.reduce((s, c) => s + cents(c.internationalCosts), 0);
    assert.ok(billing.customers.length > 5, "demo data has billed customers");
    assert.equal(amountOf(await cardValue(page, "international")), money(intl));
    assert.equal(amountOf(await cardValue(page, "customers-billed")), String(billing.customers.length));
    assert.equal(
      amountOf(await cardValue(page, "customers-recording")),
      String(billing.customers.filter((c) => c.hasCallRecording).length),
    );
    const calls = usage.find((r) => r.category === "calls");
    const total = usage.find((r) => r.category === "totalprice");
    assert.equal(amountOf(await cardValue(page, "calls")), String(calls.count));
    assert.equal(amountOf(await cardValue(page, "minutes")), String(Number(calls.usage)));
    assert.equal(amountOf(await cardValue(page, "total-price")), money(cents(total.price)));
    assert.match(await cardValue(page, "total-price"), /USD$/);
    // The previous period of equal length.
    const days = 30;
    const pFrom = utcDay(-29 - days);
    const pTo = utcDay(-30);
    const prev = (await api(page, `/billing?accountId=acc-northwind&startDate=${pFrom}&endDate=${pTo}`)).body;
    const prevIntl = prev.customers.reduce((s, c) => s + cents(c.internationalCosts), 0);
    assert.equal(
      amountOf(await page.textContent('[data-testid="card-international"] [data-testid="previous"]')),
      money(prevIntl),
    );
    // Top customer = the highest international cost.
    const top = Math.max(...billing.customers.map((c) => cents(c.internationalCosts)));
    assert.equal(amountOf(await page.textContent('[data-testid="top-cost"]')), money(top));
    // A range with today has the month-end estimate, labelled as one.
    assert.match(await page.textContent('[data-testid="projection"]'), /Estimate/);
    // Charts are SVG with titles on the bars.
    assert.ok((await page.$$("figure.chart svg.plot rect.bar title")).length >= 28);
    await noAxe(page, "overview");
    await noProblems(page, "overview");
    await page.context().close();
  });

  test("a preset changes the URL and the data; back restores both", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.manager);
    await page.goto(`${server.base}/app/overview?account=acc-northwind`);
    await settled(page, "overview");
    const before = await cardValue(page, "international");
    await page.selectOption("#range-preset", "lastMonth");
    await page.waitForURL(/range=lastMonth/);
    await settled(page, "overview");
    const first = new Date();
    first.setUTCDate(1);
    first.setUTCMonth(first.getUTCMonth() - 1);
    const lmFrom = first.toISOString().slice(0, 10);
    const end = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0));
    const lmTo = end.toISOString().slice(0, 10);
    const billing = (await api(page, `/billing?accountId=acc-northwind&startDate=${lmFrom}&endDate=${lmTo}`)).body;
    const intl = billing.customers.reduce((s, c) => s + cents(c.internationalCosts), 0);
    await page.waitForFunction(
      (v) => document.querySelector('[data-testid="card-international"] [data-testid="value"]')?.textContent.replace(/[^0-9.\-]/g, "") === v,
      money(intl),
    );
    assert.equal(await page.$('[data-testid="projection"]'), null, "no estimate for a past range");
    await page.goBack();
    await page.waitForURL((u) => !u.search.includes("range=lastMonth"));
    await settled(page, "overview");
    await page.waitForFunction(
      (v) => document.querySelector('[data-testid="card-international"] [data-testid="value"]')?.textContent === v,
      before,
    );
    assert.equal(await page.inputValue("#range-preset"), "last30Days");
    await noProblems(page, "preset");
    await page.context().close();
  });
});

describe("customers", () => {
  test("sort and filter the table; the URL keeps both; a customer's page", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.manager);
    await page.goto(`${server.base}/app/customers?account=acc-northwind&range=last12Months`);
    await settled(page, "customers");
    const rows = await page.$$('[data-testid="customer-row"]');
    assert.ok(rows.length >= 10, "customers listed");
    await page.click('button[data-sort="cost"]');
    await page.waitForURL(/sort=cost&dir=desc/);
    const costs = await page.$$eval('[data-testid="customer-row"] [data-testid="cost"]', (els) =>
      els.map((e) => Number(e.textContent.replace(/[^0-9.\-]/g, ""))),
    );
    assert.ok(costs.length > 2);
    for (let i = 1; i < costs.length; i++) assert.ok(costs[i - 1] >= costs[i], `sorted descending at ${i}`);
    assert.equal(await page.getAttribute('th:has(button[data-sort="cost"])', "aria-sort"), "descending");
    await page.click('button[data-sort="cost"]');
    await page.waitForURL((u) => u.search.includes("sort=cost") && !u.search.includes("dir=desc"));
    const asc = await page.$$eval('[data-testid="customer-row"] [data-testid="cost"]', (els) =>
      els.map((e) => Number(e.textContent.replace(/[^0-9.\-]/g, ""))),
    );
    for (let i = 1; i < asc.length; i++) assert.ok(asc[i - 1] <= asc[i], `sorted ascending at ${i}`);
    // Filter by the first row's name.
    const name = (await page.textContent('[data-testid="customer-row"] th a')).trim();
    await page.fill("#customer-filter", name);
    await page.waitForURL(/q=/);
    const names = await page.$$eval('[data-testid="customer-row"] th', (els) => els.map((e) => e.textContent.toLowerCase()));
    assert.ok(names.length >= 1);
    for (const n of names) assert.ok(n.includes(name.toLowerCase()), `${n} matches ${name}`);
    await page.fill("#customer-filter", "no customer is called this");
    await page.waitForSelector("text=No customer matches the filter.");
    await noAxe(page, "customers");
    // A customer's page: its figures and its 13-month trend.
    await page.fill("#customer-filter", "");
    await page.click('[data-testid="customer-row"] th a');
    await page.waitForURL(/\/app\/customers\/[^?]+/);
    await settled(page, "customer");
    assert.ok((await page.$$("figure.chart svg.plot rect.bar")).length === 13);
    await noAxe(page, "customer page");
    await noProblems(page, "customers");
    await page.context().close();
  });
});

describe("usage", () => {
  test("categories as a hierarchy, by day / week / month, total never double-counted", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.admin);
    const from = utcDay(-13);
    const to = utcDay(0);
    await page.goto(`${server.base}/app/usage?account=acc-northwind&from=${from}&to=${to}`);
    await settled(page, "usage");
    const usage = (await api(page, `/billing/usage?accountId=acc-northwind&startDate=${from}&endDate=${to}`)).body;
    const total = usage.find((r) => r.category === "totalprice");
    assert.equal(amountOf(await page.textContent('[data-testid="usage-total"]')), money(cents(total.price)));
    const inbound = await page.textContent('[data-category="calls-inbound"] [data-testid="price"]');
    const rec = usage.find((r) => r.category === "calls-inbound");
    assert.equal(amountOf(inbound), money(cents(rec.price)));
    assert.equal((await page.$$('[data-testid="usage-periods"] tbody tr')).length, 14);
    await page.click("fieldset.segmented button:has-text('Week')");
    await page.waitForURL(/by=weekly/);
    await settled(page, "usage");
    const weeks = (await page.$$('[data-testid="usage-periods"] tbody tr')).length;
    assert.ok(weeks >= 2 && weeks <= 3, `${weeks} weeks`);
    await noAxe(page, "usage");
    await noProblems(page, "usage");
    await page.context().close();
  });
});

describe("reports", () => {
  test("request a report, watch it complete, download the CSV and check its rows", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.manager);
    const from = utcDay(-6);
    const to = utcDay(0);
    await page.goto(`${server.base}/app/reports?account=acc-northwind&from=${from}&to=${to}`);
    await page.waitForSelector("#report-form");
    // Inline validation from core: a bad email is refused before sending.
    await page.fill("#report-email", "not-an-email");
    await page.locator("#report-email").blur();
    await page.waitForSelector('[data-field="EmailAddressToNotify"]:not(:empty)');
    await page.fill("#report-email", "");
    await page.check("#report-ids");
    await page.click("#report-form button[type=submit]");
    await page.waitForSelector('[data-testid="report-row"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="report-row"] [data-testid="report-status"]')?.textContent === "Completed",
      null,
      { timeout: 60_000 },
    );
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click('[data-testid="report-row"] [data-testid="download-csv"]'),
    ]);
    const path = await download.path();
    const { readFileSync } = await import("node:fs");
    const csv = readFileSync(path, "utf8").trim().split(/\r?\n/);
    const billing = (await api(page, `/billing?accountId=acc-northwind&startDate=${from}&endDate=${to}`)).body;
    assert.match(csv[0], /^CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts/);
    assert.equal(csv.length, 1 + billing.customers.length + 1, "header, one row per billed customer, total");
    await noAxe(page, "reports");
    // Delete it.
    await page.click('[data-testid="report-row"] button.danger');
    await page.waitForSelector('[data-testid="no-reports"]');
    await noProblems(page, "reports");
    await page.context().close();
  });
});

describe("report a call", () => {
  test("core's field errors before sending, the server's after, then success", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.manager);
    await page.goto(`${server.base}/app/report-call?account=acc-northwind`);
    await page.waitForSelector("#report-call-form");
    let sent = 0;
    page.on("request", (r) => {
      if (r.url().endsWith("/billables")) sent++;
    });
    await page.fill("#call-customer", "");
    await page.click("#report-call-form button[type=submit]");
    await page.waitForSelector('[data-field="CustomerId"]:not(:empty)');
    await page.waitForSelector('[data-field="CallSid"]:not(:empty)');
    assert.equal(sent, 0, "a refused form never reaches the network");
    // The server's error: a customer that does not exist in the account.
    await page.fill("#call-customer", "cus-does-not-exist");
    await page.fill("#call-sid", "CAe2e0000000000000000000000000001");
    await page.click("#report-call-form button[type=submit]");
    await page.waitForSelector('[data-field="CustomerId"]:not(:empty)');
    assert.equal(sent, 1);
    const billing = (await api(page, `/billing?accountId=acc-northwind&startDate=${utcDay(-29)}&endDate=${utcDay(0)}`)).body;
    await page.fill("#call-customer", billing.customers[0].customerId);
    await page.click("#report-call-form button[type=submit]");
    await page.waitForSelector('[data-testid="call-reported"]');
    await noAxe(page, "report a call");
    await noProblems(page, "report a call", { allowHttpErrors: true });
    await page.context().close();
  });
});

describe("session", () => {
  test("a 401 goes to sign-in and back to where the user was; sign out", async () => {
    const page = await newPage(browser);
    await page.goto(`${server.base}/app/customers?account=acc-northwind&q=a`);
    await page.waitForURL(/\/app\/sign-in\?next=/);
    await page.fill("#user-name", USERS.manager.userName);
    await page.fill("#password", USERS.manager.password);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/app\/customers\?account=acc-northwind&q=a/);
    await settled(page, "customers");
    // The session ends on the server: the next call's 401 sends the user to sign in.
    await page.evaluate(() => fetch("/auth/logout", { method: "POST" }));
    await page.selectOption("#range-preset", "lastMonth");
    await page.waitForURL(/\/app\/sign-in\?next=.*customers/, { timeout: 15_000 });
    await signIn(page, server.base, USERS.manager, "/app/customers?account=acc-northwind&range=lastMonth");
    await page.waitForURL(/\/app\/customers\?account=acc-northwind&range=lastMonth/);
    await page.click("text=Sign out");
    await page.waitForURL(/\/app\/sign-in/);
    await page.goto(`${server.base}/app/overview`);
    await page.waitForURL(/\/app\/sign-in\?next=/);
    await noProblems(page, "session", { allowHttpErrors: true });
    await page.context().close();
  });

  test("narrow screens (390 px): every page reachable, no violations", async () => {
    const page = await newPage(browser, { width: 390, height: 844 });
    await signIn(page, server.base, USERS.manager);
    for (const path of ["overview", "customers", "usage", "reports", "report-call"]) {
      await page.goto(`${server.base}/app/${path}?account=acc-northwind`);
      if (!["reports", "report-call"].includes(path)) await settled(page, path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path}: the page is ${overflow}px wider than the screen`);
      await noAxe(page, `${path} at 390 px`);
    }
    await noProblems(page, "narrow");
    await page.context().close();
  });
});

describe("untrusted text", () => {
  test("a customer named <img src=x onerror=alert(1)> renders as text", async (t) => {
    const page = await newPage(browser);
    await signIn(page, server.base, USERS.admin);
    const name = "<img src=x onerror=alert(1)>";
    const created = await page.evaluate(async (n) => {
      const r = await fetch("/customers", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ accountId: "acc-northwind", name: n }),
      });
      const type = r.headers.get("content-type") ?? "";
      return { status: r.status, json: type.includes("json") ? await r.json() : null };
    }, name);
    if (created.status === 404 || created.json === null) {
      t.todo("the server does not offer CreateCustomer (POST /customers) yet");
      await page.context().close();
      return;
    }
    assert.equal(created.status, 200, JSON.stringify(created.json));
    await page.goto(`${server.base}/app/customers?account=acc-northwind&q=${encodeURIComponent("onerror")}`);
    await settled(page, "customers");
    const cell = await page.textContent('[data-testid="customer-row"] th a');
    assert.equal(cell.trim(), name, "the name is shown as typed");
    assert.equal(await page.$('[data-testid="customers"] img'), null, "no <img> element was made");
    await page.goto(`${server.base}/app/customers/${encodeURIComponent(created.json.id)}?account=acc-northwind`);
    await settled(page, "customer");
    assert.equal((await page.textContent('[data-testid="customer-name"]')).trim(), name);
    assert.deepEqual(await page.evaluate(() => window.__alerts ?? []), [], "no script ran");
    await noProblems(page, "untrusted text");
    await page.context().close();
  });
});

// `cargo xtask test --full`: the customers table of an account with 10,000 customers.
if (process.env.EVO_BILLING_E2E_FULL === "1") {
  describe("10,000 customers (--full)", () => {
    test("the table lists, pages, sorts and filters them all", async () => {
      const big = await startServer({ demoCalls: 200000, args: ["--demo-customers", "10000"] });
      const page = await newPage(browser);
      try {
        await signIn(page, big.base, USERS.manager);
        await page.goto(`${big.base}/app/customers?account=acc-northwind`);
        await settled(page, "customers");
        const list = (await api(page, "/customers?accountId=acc-northwind")).body;
        assert.ok(list.totalCount >= 10000, `${list.totalCount} customers`);
        const summary = await page.textContent('[data-testid="table-summary"]');
        assert.equal(summary.replace(/,/g, ""), `${list.totalCount} customers`);
        assert.equal((await page.$$('[data-testid="customer-row"]')).length, 50);
        assert.match(await page.textContent('[data-testid="page"]'), new RegExp(`of ${Math.ceil(list.totalCount / 50)} `));
        await page.click('button[data-sort="cost"]');
        await page.waitForURL(/sort=cost/);
        const costs = await page.$$eval('[data-testid="customer-row"] [data-testid="cost"]', (els) =>
          els.map((e) => Number(e.textContent.replace(/[^0-9.\-]/g, ""))),
        );
        for (let i = 1; i < costs.length; i++) assert.ok(costs[i - 1] >= costs[i]);
        await page.fill("#customer-filter", list.items[list.items.length - 1].name);
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length < 50);
        await noProblems(page, "10,000 customers");
      } finally {
        await page.context().close();
        big.stop();
      }
    });
  });
}
