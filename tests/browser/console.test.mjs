// The console in a real headless Chromium: what a user sees and steers, live.
//
//   (cd tests/browser && npm ci && npm test)     after `cargo build` (or `cargo test`)
//
// Needs Debian's `chromium` (CHROMIUM overrides the path); `.ci/run` installs it. The sandbox is
// the binary from target/debug, on the default scenario with a frozen clock and Pagsmile
// webhooks going to a local receiver that answers 500 (so retries are owed).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
const BIN = process.env.ISSUER_SANDBOX_BIN ?? join(ROOT, "target/debug/issuer-sandbox");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "console-"));

let receiver;
let browser;
const sandboxes = [];

/** Starts `serve` with these arguments; its base URL, read from the banner. */
async function serve(args) {
  const child = spawn(BIN, ["serve", "--bind", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  sandboxes.push(child);
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const found = line.match(/listening on (\S+)/);
    if (found) {
      lines.on("line", () => {}); // keep draining the banner
      return found[1];
    }
  }
  throw new Error("the sandbox did not start");
}

before(async () => {
  receiver = createServer((request, response) => {
    request.resume();
    request.on("end", () => { response.writeHead(500); response.end("{}"); });
  });
  await new Promise((ready) => receiver.listen(0, "127.0.0.1", ready));
  const hooks = `http://127.0.0.1:${receiver.address().port}/pagsmile`;
  const scenario = readFileSync(join(ROOT, "scenarios/default.yaml"), "utf8")
    .replace("name: default\n", "name: console\nclock: { start: 2026-11-21T00:00:00Z, frozen: true }\n")
    .replace("security_key: Pagsmile_sk_demo_0123456789abcdef\n",
      `security_key: Pagsmile_sk_demo_0123456789abcdef\n        webhook_url: ${hooks}\n`);
  writeFileSync(join(work, "console.yaml"), scenario);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  for (const child of sandboxes) child.kill("SIGTERM");
  receiver?.close();
});

async function post(url, path, body, headers = {}) {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

test("the console shows and steers a running sandbox", async () => {
  const url = await serve(["--scenario", join(work, "console.yaml")]);
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(url + "/");
  assert.equal(new URL(page.url()).pathname, "/__admin/ui", "a browser opening / lands on the console");
  await page.locator("#status").filter({ hasText: "console" }).waitFor();

  // A KazePay request made here appears live, and its decrypted body is shown.
  const envelope = execFileSync(BIN, ["kazepay", "seal", "--api-code", "queryUcardKycStatus",
    "--request-no", "2026112100000000000001", "-"],
  { input: JSON.stringify({ email: "zhang.wei@example.com" }) });
  const sent = await post(url, "/kazepay", envelope.toString());
  assert.equal(sent.status, 200);
  const row = page.locator("#journal-table tbody tr", { hasText: "kazepay" }).first();
  await row.waitFor();
  await row.click();
  await page.locator("#exchange .decrypted", { hasText: "zhang.wei@example.com" }).waitFor();
  await page.locator("#exchange details summary", { hasText: "Headers" }).click();
  await page.locator("#exchange .headers", { hasText: "content-type: application/json" }).waitFor();
  await page.locator("#exchange .response-headers", { hasText: "content-type" }).waitFor();
  // The exchange links to the cardholder it touched.
  await page.locator("#exchange .touched a", { hasText: "cardholder ch-zhang-wei" }).click();
  await page.locator('#holders tr.selected[data-holder="ch-zhang-wei"]').waitFor();

  // Approve a KYC review and see the status change.
  await page.click('nav button[data-view="merchants"]');
  const bob = page.locator('#holders tr[data-holder="ch-bob-chen"]');
  await bob.locator(".kyc", { hasText: "pending" }).waitFor();
  await bob.locator('button[data-decide="passed"]').click();
  await bob.locator(".kyc", { hasText: "passed" }).waitFor();

  // Post an authorization and see the balance and the hold change.
  const alice = page.locator('#cards tr[data-card="card-alice-chase"]');
  await alice.locator(".available", { hasText: "250.00 USD" }).waitFor();
  await alice.locator('input[name="amount"]').fill("12.34");
  await alice.locator("form.post button").click();
  await alice.locator(".available", { hasText: "237.66 USD" }).waitFor();
  await alice.locator(".blocked", { hasText: "12.34 USD" }).waitFor();

  // Add a fault rule in the form; the next request fails and the journal marks the rule.
  await page.click('nav button[data-view="faults"]');
  await page.selectOption("#fault-provider", "acedata");
  await page.selectOption("#fault-action", '{"status":503}');
  await page.fill("#fault-first", "1");
  await page.click("#fault-form button");
  await page.locator("#fault-list tbody tr", { hasText: "f1" }).waitFor();
  const lookup = await post(url, "/identity/bankcard/check-1e", { bank_card: "6222020200112233446" },
    { Authorization: "Bearer demo-acedata-token" });
  assert.equal(lookup.status, 503);
  await page.click('nav button[data-view="journal"]');
  await page.locator("#journal-table tbody tr", { hasText: "503" }).filter({ hasText: "f1" }).waitFor();
  // Disable the rule: the next request passes.
  await page.click('nav button[data-view="faults"]');
  await page.locator('#fault-list button[data-switch="disable"]').click();
  await page.locator('#fault-list button[data-switch="enable"]').waitFor();
  const again = await post(url, "/identity/bankcard/check-1e", { bank_card: "6222020200112233446" },
    { Authorization: "Bearer demo-acedata-token" });
  assert.equal(again.status, 200);

  // A Pagsmile authorization owes a webhook; the receiver fails it; advancing the clock in the
  // console brings the retry, which appears in the deliveries.
  await page.click('nav button[data-view="merchants"]');
  const card = page.locator('#cards tr[data-card="30000001"]');
  await card.locator('input[name="amount"]').fill("1.00");
  await card.locator("form.post button").click();
  await page.click('nav button[data-view="webhooks"]');
  await page.locator("#deliveries .attempts", { hasText: "500" }).first().waitFor();
  await page.click('nav button[data-view="merchants"]');
  await page.fill("#advance-by", "10m");
  await page.click("#advance-form button");
  await page.locator("#clock", { hasText: "00:10:00" }).waitFor();
  await page.click('nav button[data-view="webhooks"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#deliveries .attempts")]
    .some((cell) => cell.innerHTML.split("<br>").length >= 2));

  // Set the clock.
  await page.click('nav button[data-view="merchants"]');
  await page.fill("#set-clock-at", "2026-11-22T08:00:00Z");
  await page.click("#set-clock-form button");
  await page.locator("#clock", { hasText: "2026-11-22T08:00:00Z" }).waitFor();

  // A screenshot with real data, for the README.
  await page.click('nav button[data-view="journal"]');
  await page.locator("#journal-table tbody tr", { hasText: "kazepay" }).first().click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ROOT, "docs/console.png") });
  await page.close();
});

test("with an admin token the console asks for it and is refused until it has it", async () => {
  const url = await serve(["--admin-token", "s3cret"]);
  const page = await browser.newPage();
  await page.goto(url + "/__admin/ui");
  await page.locator("#token-form").waitFor({ state: "visible" });
  await page.locator("#status", { hasText: "admin token" }).waitFor();
  await page.fill("#token", "wrong");
  await page.click("#token-form button");
  await page.locator("#token-error", { hasText: "refused" }).waitFor();
  await page.fill("#token", "s3cret");
  await page.click("#token-form button");
  await page.locator("#token-form").waitFor({ state: "hidden" });
  await page.click('nav button[data-view="faults"]');
  await page.locator("#fault-list").waitFor();
  assert.equal(await page.locator("#status").evaluate((n) => n.classList.contains("bad")), false);
  await page.close();
});
