// The typed client of `evo-billing` against a small real HTTP server (node:http on 127.0.0.1,
// port 0): no mock of fetch, the package's own fetch transport talks to it.
// Run from the repository root: node --test tests/
import { test, before, after, beforeEach, describe as group } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";

import { BillingClient, summarizeUsage } from "evo-billing";

import { assertApiError, rejectsApiError } from "./helpers.mjs";

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

const BILLING = {
  customers: [
    { customerId: "c1", internationalCosts: 12.34, hasCallRecording: true },
    { customerId: "c2", internationalCosts: 0, hasCallRecording: false },
  ],
};
const USAGE = [
  { accountSid: "AC1", category: "calls", count: 3, countUnit: "calls", startDate: "2026-01-30", endDate: "2026-01-30", price: 3, priceUnit: "usd", usage: "10", usageUnit: "minutes" },
  { accountSid: "AC1", category: "calls-inbound", count: 1, startDate: "2026-01-30", price: 1, usage: "4" },
  { accountSid: "AC1", category: "calls-outbound", count: 2, startDate: "2026-01-30", price: 2, usage: "6" },
  { accountSid: "AC1", category: "sms", count: 5, startDate: "2026-02-02", price: "0.0375", usage: "5" },
];
const REPORT = { id: "r1", name: "Billing 2026-01", status: "Queued", dateCreated: "2026-02-01T10:00:00Z", emailAddressToNotify: "ops@example.com" };
const SERVER_TOKEN = "tok-from-server";

/** Every request the server saw: { method, url, path, query, headers, body }. */
const seen = [];
/** Responses held open by the "hang" route, and their timers. */
const held = [];
let server;
let base;

function json(res, status, body, contentType = "application/json; charset=utf-8") {
  res.writeHead(status, { "content-type": contentType });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function route(req, res, r) {
  const key = `${req.method} ${r.path}`;
  const account = r.query.get("accountId");
  if (key === "GET /billing") {
    switch (account) {
      case "bad-request":
        return json(res, 400, {
          responseStatus: {
            errorCode: "NotEmpty",
            message: "'Account Id' must not be empty.",
            errors: [{ errorCode: "NotEmpty", fieldName: "AccountId", message: "'Account Id' must not be empty." }],
          },
        });
      case "empty-401":
        res.writeHead(401);
        return res.end();
      case "plain-403":
        res.writeHead(403, { "content-type": "text/plain" });
        return res.end("Forbidden");
      case "pascal-403":
        return json(res, 403, { ResponseStatus: { ErrorCode: "Forbidden", Message: "nope", Errors: [] } });
      case "html-502":
        res.writeHead(502, { "content-type": "text/html" });
        return res.end("<html><body>bad gateway</body></html>");
      case "not-json-200":
        return json(res, 200, "{half");
      case "hang": {
        // Never answer (until cleanup, or 5 s later).
        const timer = setTimeout(() => res.end(), 5000);
        held.push({ res, timer });
        return;
      }
      default:
        return json(res, 200, BILLING);
    }
  }
  if (key === "GET /billing/usage") {
    if (account === "pascal") {
      // The same records as a ServiceStack server without the camelCase scope writes them.
      const pascal = USAGE.map((u) => Object.fromEntries(Object.entries(u).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v])));
      return json(res, 200, pascal);
    }
    return json(res, 200, USAGE);
  }
  if (key === "POST /billables") {
    res.writeHead(204);
    return res.end();
  }
  if (key === "POST /api/NewBillable[]") {
    const items = JSON.parse(r.body);
    return json(res, 200, items.map((it, i) => ({ callSid: it.callSid, duplicate: i === 1 })));
  }
  if (key === "POST /reports/billing") return json(res, 200, REPORT);
  if (key === "GET /reports") return json(res, 200, [{ ...REPORT, id: "r2", status: "Running" }, { ...REPORT, status: "Completed", downloadLink: "/reports/r1/download.csv" }]);
  if (key === "GET /reports/r1") return json(res, 200, { ...REPORT, status: "Completed" });
  if (key === "DELETE /reports/r1") {
    res.writeHead(204);
    return res.end();
  }
  if (key === "POST /auth/credentials") {
    const body = JSON.parse(r.body);
    if (body.password !== "demo-manager") return json(res, 401, { responseStatus: { errorCode: "Unauthorized", message: "Invalid UserName or Password" } });
    return json(res, 200, { userId: "1", sessionId: "sess-1", userName: body.userName, displayName: "Demo Manager", bearerToken: SERVER_TOKEN, roles: ["Manager"], permissions: [] });
  }
  if (key === "GET /auth/status") {
    const ok = r.headers.authorization === `Bearer ${SERVER_TOKEN}`;
    return json(res, 200, { id: ok ? "1" : undefined, isAuthenticated: ok, name: ok ? "Demo Manager" : undefined, roles: ok ? ["Manager"] : [], accountIds: ok ? ["AC1"] : [], accountNames: ok ? ["Demo"] : [] });
  }
  if (key === "POST /auth/logout") return json(res, 200, {});
  return json(res, 404, { responseStatus: { errorCode: "NotFound", message: `No route for ${key}` } });
}

before(async () => {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url, "http://localhost");
      const r = { method: req.method, url: req.url, path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(r);
      route(req, res, r);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  for (const { res, timer } of held) {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

const RANGE = { accountId: "AC1", startDate: "2026-01-01", endDate: "2026-01-31" };
const only = () => {
  assert.equal(seen.length, 1, `expected exactly one request, saw ${seen.map((r) => `${r.method} ${r.url}`).join(", ")}`);
  return seen[0];
};

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

group("getBilling", () => {
  test("typed data back; the query string carries the request; a bearer token is sent", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const info = await client.getBilling({ ...RANGE, customerId: "c 1&x" });
    assert.deepEqual(info, BILLING);
    assert.equal(info.customers[0].internationalCosts, 12.34);
    assert.equal(info.customers[0].hasCallRecording, true);
    const r = only();
    assert.equal(r.method, "GET");
    assert.equal(r.path, "/billing");
    assert.equal(r.query.get("accountId"), "AC1");
    assert.equal(r.query.get("startDate"), "2026-01-01");
    assert.equal(r.query.get("endDate"), "2026-01-31");
    assert.equal(r.query.get("customerId"), "c 1&x"); // percent-encoded on the wire, decoded here
    assert.equal(r.headers.authorization, "Bearer tok");
    assert.match(r.headers.accept, /application\/json/);
    assert.equal(r.body, "");
  });

  test("an API key is sent as HTTP Basic with the key as user name", async () => {
    const client = new BillingClient(base, { apiKey: "ak_1" });
    await client.getBilling(RANGE);
    assert.equal(only().headers.authorization, "Basic " + Buffer.from("ak_1:").toString("base64"));
  });

  test("no credentials, no Authorization header; setBearerToken / setApiKey switch it", async () => {
    const client = new BillingClient(base + "/", undefined); // a trailing slash is fine
    assert.equal(client.baseUrl, base);
    await client.getBilling(RANGE);
    assert.equal(only().headers.authorization, undefined);
    client.setBearerToken("later");
    await client.getBilling(RANGE);
    assert.equal(seen[1].headers.authorization, "Bearer later");
    client.setApiKey("ak_2");
    await client.getBilling(RANGE);
    assert.equal(seen[2].headers.authorization, "Basic " + Buffer.from("ak_2:").toString("base64"));
  });

  test("validation happens before sending: nothing reaches the server", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const e = await rejectsApiError(client.getBilling({}), 400);
    assert.deepEqual(e.responseStatus.errors.map((x) => x.fieldName), ["AccountId", "StartDate", "EndDate"]);
    assert.equal(e.responseStatus.errorCode, "NotEmpty");
    const inverted = await rejectsApiError(client.getBilling({ ...RANGE, endDate: "2025-12-31" }), 400);
    assert.equal(inverted.responseStatus.errors[0].fieldName, "EndDate");
    await rejectsApiError(client.newBillable({ callSid: "CA1" }), 400);
    await rejectsApiError(client.listUsageRecords({ accountId: "AC1" }), 400);
    await rejectsApiError(client.summarizeUsage({ ...RANGE, startDate: "soon" }), 400);
    await rejectsApiError(client.billingReport({ ...RANGE, webhookUrl: "ftp://x.example" }), 400);
    await rejectsApiError(client.getReport("  "), 400);
    assert.equal(seen.length, 0, `the server saw ${seen.map((r) => `${r.method} ${r.url}`).join(", ")}`);
  });
});

group("errors from the server", () => {
  const client = () => new BillingClient(base, { bearerToken: "tok" });

  test("a 400 with a ServiceStack ResponseStatus body", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "bad-request" }), 400);
    assert.equal(e.responseStatus.errorCode, "NotEmpty");
    assert.equal(e.responseStatus.errors[0].fieldName, "AccountId");
    assert.equal(e.responseStatus.errors[0].errorCode, "NotEmpty");
    assert.equal(only().query.get("accountId"), "bad-request");
  });

  test("an empty-body 401 becomes { errorCode: '401', message: 'Unauthorized' }", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "empty-401" }), 401);
    assert.equal(e.responseStatus.errorCode, "401");
    assert.equal(e.responseStatus.message, "Unauthorized");
  });

  test("a text/plain 403 'Forbidden' becomes { errorCode: '403', message: 'Forbidden' }", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "plain-403" }), 403);
    assert.equal(e.responseStatus.errorCode, "403");
    assert.equal(e.responseStatus.message, "Forbidden");
  });

  test("a PascalCase JSON error body is read like a camelCase one", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "pascal-403" }), 403);
    assert.equal(e.responseStatus.errorCode, "Forbidden");
    assert.equal(e.responseStatus.message, "nope");
  });

  test("an HTML 502 from a proxy: the status text", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "html-502" }), 502);
    assert.equal(e.responseStatus.errorCode, "502");
    assert.equal(e.responseStatus.message, "Bad Gateway");
  });

  test("a 200 that is not JSON: InvalidResponse", async () => {
    const e = await rejectsApiError(client().getBilling({ ...RANGE, accountId: "not-json-200" }), 200);
    assert.equal(e.responseStatus.errorCode, "InvalidResponse");
  });

  test("an unknown route: the server's 404 body", async () => {
    const e = await rejectsApiError(client().getReport("nope"), 404);
    assert.equal(e.responseStatus.errorCode, "NotFound");
    assert.equal(only().path, "/reports/nope");
  });
});

group("billables", () => {
  test("newBillable: POST /billables with a JSON body; a 204 resolves empty", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const result = await client.newBillable({ sessionId: "s1", callSid: "CA1" });
    assert.ok(result === undefined || result === null, `resolved ${JSON.stringify(result)}`);
    const r = only();
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/billables");
    assert.match(r.headers["content-type"], /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), { sessionId: "s1", callSid: "CA1" });
    assert.equal(r.headers.authorization, "Bearer tok");
  });

  test(
    "Promise<void> methods resolve to undefined, as typed and documented",
    async () => {
      const client = new BillingClient(base, { bearerToken: "tok" });
      assert.equal(await client.newBillable({ sessionId: "s1", callSid: "CA1" }), undefined);
      assert.equal(await client.deleteReport("r1"), undefined);
      assert.equal(await client.logout(), undefined);
    },
  );

  test("newBillables: POST /api/NewBillable[] with a JSON array; one result per item", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const items = [
      { sessionId: "s1", callSid: "CA1" },
      { accountId: "AC1", customerId: "cu1", callSid: "CA2" },
      { sessionId: "s3", callSid: "CA3" },
    ];
    const results = await client.newBillables(items);
    assert.deepEqual(results, [
      { callSid: "CA1", duplicate: false },
      { callSid: "CA2", duplicate: true },
      { callSid: "CA3", duplicate: false },
    ]);
    const r = only();
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/api/NewBillable[]");
    assert.deepEqual(JSON.parse(r.body), items);
  });

  test("newBillables: one bad item refuses the batch before sending, naming the item", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const e = await rejectsApiError(client.newBillables([{ sessionId: "s", callSid: "CA1" }, { callSid: "CA2" }]), 400);
    assert.match(e.responseStatus.message, /^Item 1:/);
    assert.equal(seen.length, 0);
  });
});

group("usage", () => {
  test("listUsageRecords: a bare JSON array answer, typed", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const records = await client.listUsageRecords({ ...RANGE, granularity: "daily" });
    assert.equal(records.length, USAGE.length);
    assert.equal(records[0].category, "calls");
    assert.equal(records[3].price, 0.0375); // a decimal string on the wire, an exact number here
    const r = only();
    assert.equal(r.path, "/billing/usage");
    assert.equal(r.query.get("accountId"), "AC1");
    assert.equal(r.query.get("granularity"), "daily");
  });

  test("client.summarizeUsage aggregates the answer in WASM, as the free function does", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    for (const granularity of [undefined, "daily", "weekly", "monthly"]) {
      seen.length = 0;
      const summary = await client.summarizeUsage({ ...RANGE, granularity });
      assert.deepEqual(summary, summarizeUsage(USAGE, granularity), `granularity ${granularity}`);
      assert.equal(summary.totalPrice, 3.0375); // calls + sms; calls-inbound/outbound are inside calls
      assert.equal(summary.records, 4);
      assert.equal(only().query.get("granularity"), granularity ?? null);
    }
  });

  test("PascalCase usage answers: listUsageRecords reads them", async () => {
    const client = new BillingClient(base, { bearerToken: "tok" });
    const records = await client.listUsageRecords({ ...RANGE, accountId: "pascal" });
    assert.deepEqual(summarizeUsage(records, undefined), summarizeUsage(USAGE, undefined));
  });

  test(
    "PascalCase usage answers: client.summarizeUsage agrees with listUsageRecords",
    async () => {
      const client = new BillingClient(base, { bearerToken: "tok" });
      const summary = await client.summarizeUsage({ ...RANGE, accountId: "pascal" });
      assert.deepEqual(summary, summarizeUsage(USAGE, undefined));
    },
  );
});

group("reports", () => {
  const client = () => new BillingClient(base, { bearerToken: "tok" });

  test("billingReport: POST /reports/billing, a Queued ReportInfo back", async () => {
    const request = { ...RANGE, includeCustomerIds: true, emailAddressToNotify: "ops@example.com", webhookUrl: "https://hooks.example.com/done" };
    const report = await client().billingReport(request);
    assert.equal(report.status, "Queued");
    assert.equal(report.id, "r1");
    const r = only();
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/reports/billing");
    assert.deepEqual(JSON.parse(r.body), request);
  });

  test("listReports: GET /reports", async () => {
    const reports = await client().listReports();
    assert.deepEqual(reports.map((x) => [x.id, x.status]), [["r2", "Running"], ["r1", "Completed"]]);
    assert.equal(only().path, "/reports");
  });

  test("getReport: GET /reports/r1", async () => {
    const report = await client().getReport("r1");
    assert.equal(report.status, "Completed");
    const r = only();
    assert.equal(r.method, "GET");
    assert.equal(r.path, "/reports/r1");
  });

  test("deleteReport: DELETE /reports/r1", async () => {
    const result = await client().deleteReport("r1");
    assert.ok(result === undefined || result === null);
    const r = only();
    assert.equal(r.method, "DELETE");
    assert.equal(r.path, "/reports/r1");
  });

  test("reportDownloadUrl: a string, nothing sent", () => {
    const c = client();
    assert.equal(c.reportDownloadUrl("r1", "xlsx"), `${base}/reports/r1/download.xlsx`);
    assert.equal(c.reportDownloadUrl("r1"), `${base}/reports/r1/download.csv`);
    assert.equal(c.reportDownloadUrl("a/b", "CSV"), `${base}/reports/a%2Fb/download.csv`);
    assert.throws(() => c.reportDownloadUrl("r1", "pdf"), (e) => assertApiError(e) && true);
    assert.equal(seen.length, 0);
  });
});

group("sign-in", () => {
  test("authenticate: POST /auth/credentials; the returned token is used next", async () => {
    const client = new BillingClient(base, undefined);
    const session = await client.authenticate({ userName: "manager@demo.evovoice.io", password: "demo-manager" });
    assert.equal(session.bearerToken, SERVER_TOKEN);
    assert.deepEqual(session.roles, ["Manager"]);
    const login = seen[0];
    assert.equal(login.method, "POST");
    assert.equal(login.path, "/auth/credentials");
    assert.equal(login.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(login.body), { provider: "credentials", userName: "manager@demo.evovoice.io", password: "demo-manager" });

    const status = await client.authStatus();
    assert.equal(seen[1].path, "/auth/status");
    assert.equal(seen[1].headers.authorization, `Bearer ${SERVER_TOKEN}`);
    assert.equal(status.isAuthenticated, true);
    assert.deepEqual(status.accountIds, ["AC1"]);

    const out = await client.logout();
    assert.ok(out === undefined || out === null);
    assert.equal(seen[2].method, "POST");
    assert.equal(seen[2].path, "/auth/logout");
    assert.equal(seen[2].headers.authorization, `Bearer ${SERVER_TOKEN}`);

    const after = await client.authStatus(); // the token is forgotten
    assert.equal(seen[3].headers.authorization, undefined);
    assert.equal(after.isAuthenticated, false);
  });

  test("wrong password: the server's 401 body", async () => {
    const client = new BillingClient(base, undefined);
    const e = await rejectsApiError(client.authenticate({ userName: "u", password: "wrong" }), 401);
    assert.equal(e.responseStatus.errorCode, "Unauthorized");
    await client.authStatus();
    assert.equal(seen[1].headers.authorization, undefined); // no token was kept
  });

  test("an API-key client keeps its key after signing in", async () => {
    const client = new BillingClient(base, { apiKey: "ak_1" });
    await client.authenticate({ userName: "u", password: "demo-manager" });
    await client.authStatus();
    assert.equal(seen[1].headers.authorization, "Basic " + Buffer.from("ak_1:").toString("base64"));
  });

  test("missing credentials are refused before sending", async () => {
    const client = new BillingClient(base, undefined);
    const e = await rejectsApiError(client.authenticate({ userName: "u" }), 400);
    assert.deepEqual(e.responseStatus.errors.map((x) => x.fieldName), ["Password"]);
    assert.equal(seen.length, 0);
  });
});

group("no answer", () => {
  test("a server that never answers: RequestTimeout, status 0, within ~2 s", async () => {
    const client = new BillingClient(base, { timeoutMs: 200 });
    const started = Date.now();
    const e = await rejectsApiError(client.getBilling({ ...RANGE, accountId: "hang" }), 0);
    const elapsed = Date.now() - started;
    assert.equal(e.responseStatus.errorCode, "RequestTimeout");
    assert.ok(elapsed >= 150, `gave up too early (${elapsed} ms)`);
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(only().query.get("accountId"), "hang"); // it was sent
  });

  test("a closed port: NetworkError, status 0", async () => {
    const probe = http.createServer();
    await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = probe.address().port;
    await new Promise((resolve) => probe.close(resolve));
    const client = new BillingClient(`http://127.0.0.1:${port}`, { bearerToken: "tok", timeoutMs: 5000 });
    const e = await rejectsApiError(client.getBilling(RANGE), 0);
    assert.equal(e.responseStatus.errorCode, "NetworkError");
    assert.ok(e.responseStatus.message.length > 0);
  });
});
