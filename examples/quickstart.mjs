// evo-billing quickstart: validation, date ranges, exact money and usage roll-ups.
// Run from the repository root: node examples/quickstart.mjs
// (An app imports from "evo-billing"; this example uses the package as built in pkg/.)
import { formatMoney, parseDateRange, presetRange, sumMoney, summarizeUsage, validateNewBillable } from "../pkg/node.mjs";

// 1. Check a request before sending it: the same rules and field errors as the server.
const errors = validateNewBillable({ callSid: "CA123" });
console.log("A NewBillable with only a callSid:");
for (const e of errors) console.log(`  ${e.fieldName} (${e.errorCode}): ${e.message}`);

// 2. Date ranges. Presets are computed from "today" (omit it to use the local date).
const lastMonth = presetRange("lastMonth", "2026-11-22");
console.log(`\nLast month: ${lastMonth.startDate} .. ${lastMonth.endDate}, ${lastMonth.days} days`);
try {
  parseDateRange("2026-03-31", "2026-03-01");
} catch (e) {
  // Every failure is an ApiError: e.status, and e.responseStatus as ServiceStack writes it.
  console.log(`An inverted range: ${e.name} ${e.status}, ${e.responseStatus.errors[0].fieldName}: ${e.responseStatus.message}`);
}

// 3. Exact money: numbers or decimal strings (Twilio sends "-0.0085"), summed without float drift.
const tenCents = Array(10).fill(0.1);
console.log(`\nTen times 0.1 with +: ${tenCents.reduce((a, b) => a + b)}; with sumMoney: ${sumMoney(tenCents)}`);
console.log(`sumMoney(["-0.0085", "0.0085", 1]) = ${sumMoney(["-0.0085", "0.0085", 1])}`);
console.log(`formatMoney(1234.567, "USD") = ${formatMoney(1234.567, "USD")}`);

// 4. Usage records roll up by category and period. "calls" already contains "calls-inbound"
//    and "calls-outbound", so the total never counts them twice.
const records = [
  { category: "calls", startDate: "2026-10-05", count: 3, usage: "12", price: 0.36 },
  { category: "calls-inbound", startDate: "2026-10-05", count: 1, usage: "4", price: 0.12 },
  { category: "calls-outbound", startDate: "2026-10-05", count: 2, usage: "8", price: 0.24 },
  { category: "sms", startDate: "2026-10-20", count: 40, usage: "40", price: "0.3" },
  { category: "calls", startDate: "2026-11-02", count: 5, usage: "20.5", price: 0.6 },
];
const summary = summarizeUsage(records, "monthly");
console.log(`\nUsage by month (${summary.records} records):`);
for (const period of summary.periods) {
  const cats = period.categories.map((c) => `${c.category} ${c.count}x/${c.usage}`).join(", ");
  console.log(`  ${period.periodStart}: ${formatMoney(period.totalPrice)}  [${cats}]`);
}
console.log(`  total: ${formatMoney(summary.totalPrice)} (not ${formatMoney(sumMoney(records.map((r) => r.price)))})`);
