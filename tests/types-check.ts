// Type-checked, never run: `node_modules/.bin/tsc -p tests/tsconfig.json` (from the repository root).
// It uses the package's types the way an app does, and the `@ts-expect-error` lines prove that
// wrong types are rejected: if a declaration drifted to `any`, those lines would stop being
// errors and tsc would fail on them ("Unused '@ts-expect-error' directive").

// The generated `BillingClient` declares `[Symbol.dispose](): void`, which only exists in the
// `esnext.disposable` lib; with this project's `target: ES2022` (and `skipLibCheck: false`) the
// package's own .d.ts fails to compile without this reference. An app has to do the same.
/// <reference lib="esnext.disposable" />

import init, {
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
import type {
  ApiError,
  AuthenticateResponse,
  BillingCustomerInfo,
  BillingInfo,
  BillingReport,
  BillingTotals,
  ClientOptions,
  DateRangeInfo,
  GetBilling,
  Granularity,
  ListUsageRecords,
  NewBillable,
  NewBillableResult,
  Preset,
  PresetInfo,
  ReportInfo,
  ReportStatuses,
  ResponseError,
  ResponseStatus,
  UsageRecordInfo,
  UsageSummary,
  UserInfo,
} from "evo-billing";

// Exact type equality (fails for `any` on either side, unlike plain assignability).
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// --- The client's methods return typed Promises --------------------------------------------

assertType<Equals<ReturnType<BillingClient["getBilling"]>, Promise<BillingInfo>>>();
assertType<Equals<ReturnType<BillingClient["newBillable"]>, Promise<void>>>();
assertType<Equals<ReturnType<BillingClient["newBillables"]>, Promise<NewBillableResult[]>>>();
assertType<Equals<ReturnType<BillingClient["listUsageRecords"]>, Promise<UsageRecordInfo[]>>>();
assertType<Equals<ReturnType<BillingClient["summarizeUsage"]>, Promise<UsageSummary>>>();
assertType<Equals<ReturnType<BillingClient["billingReport"]>, Promise<ReportInfo>>>();
assertType<Equals<ReturnType<BillingClient["listReports"]>, Promise<ReportInfo[]>>>();
assertType<Equals<ReturnType<BillingClient["getReport"]>, Promise<ReportInfo>>>();
assertType<Equals<ReturnType<BillingClient["authenticate"]>, Promise<AuthenticateResponse>>>();
assertType<Equals<ReturnType<BillingClient["authStatus"]>, Promise<UserInfo>>>();
assertType<Equals<ReturnType<BillingClient["reportDownloadUrl"]>, string>>();
assertType<Equals<Parameters<BillingClient["getBilling"]>[0], GetBilling>>();
assertType<Equals<ReportStatuses, "Queued" | "Running" | "Completed" | "Error">>();
assertType<Equals<ApiError["status"], number>>();
assertType<Equals<ApiError["responseStatus"], ResponseStatus>>();
assertType<Equals<ReturnType<typeof validateNewBillable>, ResponseError[]>>();
assertType<Equals<ReturnType<typeof parseDateRange>, DateRangeInfo>>();
assertType<Equals<ReturnType<typeof sumMoney>, string>>();
assertType<Equals<ReturnType<typeof billingTotals>, BillingTotals>>();

// --- An app ----------------------------------------------------------------------------------

function isApiError(e: unknown): e is ApiError {
  return e instanceof Error && e.name === "ApiError";
}

function fieldMessages(status: ResponseStatus): Map<string, string> {
  const out = new Map<string, string>();
  for (const err of status.errors ?? []) {
    if (err.fieldName) out.set(err.fieldName, err.message ?? err.errorCode ?? "invalid");
  }
  return out;
}

function costOf(c: BillingCustomerInfo): number {
  return c.internationalCosts ?? 0;
}

function label(status: ReportStatuses): string {
  switch (status) {
    case "Queued":
      return "waiting";
    case "Running":
      return "running";
    case "Completed":
      return "ready";
    case "Error":
      return "failed";
  }
}

export async function app(baseUrl: string, token: string): Promise<string[]> {
  await init(); // browser-style code runs unchanged in Node
  const options: ClientOptions = { bearerToken: token, timeoutMs: 10_000 };
  const client = new BillingClient(baseUrl, options);
  const lines: string[] = [];

  const billable: NewBillable = { sessionId: "sess-1", callSid: "CA123" };
  const problems: ResponseError[] = validateNewBillable(billable);
  if (problems.length === 0) await client.newBillable(billable);
  const results: NewBillableResult[] = await client.newBillables([billable, { accountId: "AC1", customerId: "cu1", callSid: "CA124" }]);
  lines.push(`${results.filter((r) => r.duplicate).length} duplicates`);

  const presetName: Preset = "lastMonth";
  const range: DateRangeInfo = presetRange(presetName, "2026-11-22");
  const query: GetBilling = { accountId: "AC1", startDate: range.startDate, endDate: range.endDate };
  if (validateGetBilling(query).length > 0) return lines;
  try {
    const info: BillingInfo = await client.getBilling(query);
    const customers: BillingCustomerInfo[] = info.customers ?? [];
    const first: BillingCustomerInfo | undefined = customers[0];
    const id: string | undefined = first?.customerId;
    lines.push(`${id ?? "-"}: ${formatMoney(first ? costOf(first) : 0, "USD")}`);
    const totals: BillingTotals = billingTotals(info);
    lines.push(`${totals.customersBilled} billed, ${formatMoney(totals.internationalCosts)}`);
    const merged: BillingInfo = mergeBilling([info, info]);
    const top: BillingCustomerInfo[] = topCustomers(merged, 5);
    lines.push(billingInfoToCsv({ customers: top }));
  } catch (err) {
    if (!isApiError(err)) throw err;
    const status: number = err.status;
    const code: string | undefined = err.responseStatus.errorCode;
    lines.push(`${status} ${code}: ${[...fieldMessages(err.responseStatus).keys()].join(",")}`);
  }

  const usageQuery: ListUsageRecords = { ...query, granularity: "monthly" };
  validateListUsageRecords(usageQuery);
  const records: UsageRecordInfo[] = await client.listUsageRecords(usageQuery);
  const prices: string = sumMoney(records.map((r) => r.price ?? 0));
  const granularity: Granularity = "weekly";
  const local: UsageSummary = summarizeUsage(records, granularity);
  const fast: UsageSummary = summarizeUsageJson(new TextEncoder().encode(JSON.stringify(records)), undefined);
  const remote: UsageSummary = await client.summarizeUsage(usageQuery);
  lines.push(`${prices} ${local.totalPrice} ${fast.records} ${remote.periods.map((p) => p.periodStart ?? "").join(" ")}`);
  lines.push(usageRecordsToCsv(records));

  const reportRequest: BillingReport = { ...query, includeCustomerIds: true, emailAddressToNotify: "ops@example.com" };
  if (validateBillingReport(reportRequest).length === 0) {
    const queued: ReportInfo = await client.billingReport(reportRequest);
    const all: ReportInfo[] = await client.listReports();
    const again: ReportInfo = await client.getReport(queued.id ?? "");
    lines.push(`${label(again.status ?? "Queued")} of ${all.length}`);
    if (again.status === "Completed") lines.push(client.reportDownloadUrl(again.id ?? "", "xlsx"));
    await client.deleteReport(queued.id ?? "");
  }

  const session: AuthenticateResponse = await client.authenticate({ userName: "manager@demo.evovoice.io", password: "demo-manager" });
  const me: UserInfo = await client.authStatus();
  lines.push(`${session.displayName ?? ""} ${me.isAuthenticated} ${me.accountIds?.join(",") ?? ""}`);
  await client.logout();

  const presets: PresetInfo[] = datePresets();
  lines.push(presets.map((p) => p.label).join(", "));
  lines.push(toJsv({ accountId: "AC1" }), JSON.stringify(fromJsv("{a:b}")));
  lines.push(String(parseDateRange("2026-03-01", "2026-03-31", 31).days));
  client.free();
  return lines;
}

// --- Wrong types are rejected --------------------------------------------------------------

declare const client: BillingClient;
declare const info: BillingInfo;
declare const customer: BillingCustomerInfo;
declare const report: ReportInfo;
declare const apiError: ApiError;

// @ts-expect-error customerId is a string, not a number
const n: number = customer.customerId;
// @ts-expect-error customers is optional: info.customers may be undefined
const c0: BillingCustomerInfo = info.customers[0];
// @ts-expect-error a GetBilling is an object
client.getBilling(42);
// @ts-expect-error callSid is a string
client.newBillable({ sessionId: "s", callSid: 123 });
// @ts-expect-error newBillable resolves to void
client.newBillable({ sessionId: "s", callSid: "c" }).then((v) => v.length);
// @ts-expect-error not a ReportStatuses
const st: ReportStatuses = "Done";
// @ts-expect-error status is a ReportStatuses (or undefined), never a number
const sn: number = report.status;
// @ts-expect-error not a Preset
presetRange("fortnight");
// @ts-expect-error not a Granularity
summarizeUsage([], "hourly");
// @ts-expect-error status is a number
const es: string = apiError.status;
// @ts-expect-error responseStatus.errors holds ResponseError objects
const ef: string[] = apiError.responseStatus.errors;
// @ts-expect-error timeoutMs is a number
new BillingClient("http://localhost", { timeoutMs: "200" });
// @ts-expect-error amounts are numbers or decimal strings
sumMoney([true]);
// @ts-expect-error includeCustomerIds is a boolean
const br: BillingReport = { includeCustomerIds: "yes" };
// @ts-expect-error getReport resolves to one ReportInfo, not a list
client.getReport("r1").then((r: ReportInfo[]) => r);
// @ts-expect-error a UsageRecordInfo's usage is text
const u: UsageRecordInfo = { usage: 12 };

export { n, c0, st, sn, es, ef, br, u };
