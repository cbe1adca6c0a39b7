// `cargo xtask screenshots`: each main page at 1280 and 390 px, as a manager of Northwind sees
// it with the demo data, into docs/screenshots/ (shown in the README).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { USERS, launch, newPage, settled, signIn, startServer } from "./harness.mjs";

const out = process.env.EVO_BILLING_SCREENSHOTS ?? "docs/screenshots";
mkdirSync(out, { recursive: true });
const server = await startServer({ demoCalls: 60000 });
const browser = await launch();
try {
  for (const width of [1280, 390]) {
    const page = await newPage(browser, { width, height: width > 800 ? 900 : 844 });
    await page.goto(`${server.base}/app/sign-in`);
    await page.waitForSelector("#user-name");
    await page.screenshot({ path: join(out, `sign-in-${width}.png`), fullPage: true });
    await signIn(page, server.base, USERS.manager);
    const shots = [
      ["overview", "/app/overview?account=acc-northwind", "overview"],
      ["overview-12-months", "/app/overview?account=acc-northwind&range=last12Months", "overview"],
      ["customers", "/app/customers?account=acc-northwind&sort=cost&dir=desc", "customers"],
      ["usage", "/app/usage?account=acc-northwind&range=thisMonth", "usage"],
      ["reports", "/app/reports?account=acc-northwind", "report-row"],
      ["report-call", "/app/report-call?account=acc-northwind", null],
    ];
    for (const [name, path, testid] of shots) {
      await page.goto(`${server.base}${path}`);
      if (testid === "report-row") {
        // A finished report in the list, as a manager would have one.
        if (!(await page.$('[data-testid="report-row"]'))) {
          await page.evaluate(() => fetch("/reports/billing", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({ accountId: "acc-northwind", startDate: new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10), endDate: new Date().toISOString().slice(0, 10), includeCustomerIds: true }),
          }));
          await page.reload();
        }
        await page.waitForSelector('[data-testid="download-csv"]', { timeout: 60_000 });
      } else if (testid) await settled(page, testid);
      else await page.waitForSelector("form");
      await page.screenshot({ path: join(out, `${name}-${width}.png`), fullPage: true });
      console.log(`screenshot ${name}-${width}.png`);
    }
    // A customer's page: the first of the table.
    await page.goto(`${server.base}/app/customers?account=acc-northwind&sort=cost&dir=desc`);
    await settled(page, "customers");
    await page.click('[data-testid="customer-row"] th a');
    await settled(page, "customer");
    await page.screenshot({ path: join(out, `customer-${width}.png`), fullPage: true });
    await page.context().close();
  }
} finally {
  await browser.close();
  server.stop();
}
