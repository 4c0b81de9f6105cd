// Holds the console open on the journal (polling) in headless chromium until stdin closes;
// prints "open" once the page is live. Used by benches/console.py.
import { chromium } from "../tests/browser/node_modules/playwright-core/index.mjs";

const url = process.argv[2];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage();
await page.goto(`${url}/__admin/ui`);
await page.locator("#journal-table tbody tr").first().waitFor();
console.log("open");
process.stdin.resume();
process.stdin.on("end", async () => { await browser.close(); process.exit(0); });
