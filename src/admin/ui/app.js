// The sandbox console: plain JavaScript over the control API (/__admin), no build step.
// Every view reads the same JSON a script would; every button is one control call.
"use strict";

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = "issuer-sandbox-admin-token";
const POLL_MS = 1000;
const KEEP_ENTRIES = 500;
// Under heavy traffic a live view needs the newest exchanges, not every one: each poll takes at
// most this many (the newest since the last), so an open tab costs the server little.
const POLL_LIMIT = 100;

/** Text made safe for HTML. */
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function money(m) {
  return m ? `${esc(m.amount)} ${esc(m.currency)}` : "";
}

function status(text, bad = false) {
  const node = $("#status");
  node.textContent = text;
  node.className = bad ? "bad" : "muted";
}

/** A control call: JSON in and out, with the admin token once the user gave it. A 401 asks
 * for the token and rejects the call. */
async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = typeof body === "string" ? "application/yaml" : "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(`/__admin${path}`, { method, headers, body: payload });
  if (response.status === 401) {
    askForToken(token ? "That token was refused." : "");
    throw new Error("the admin token is needed");
  }
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  if (!response.ok) {
    const error = new Error(json.message || `HTTP ${response.status}`);
    error.answer = json;
    throw error;
  }
  return json;
}

function askForToken(message) {
  $("#token-form").hidden = false;
  $("#token-error").textContent = message;
  $("#token").focus();
}

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token-form").hidden = true;
  loadHealth().then(refresh);
});

// Views --------------------------------------------------------------------------------------

let view = "journal";
for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => show(button.dataset.view));
}

function show(name) {
  view = name;
  for (const button of document.querySelectorAll("nav button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== name;
  refresh();
}

async function act(what, call) {
  try {
    await call();
    status(`${what}: done`);
  } catch (error) {
    status(`${what}: ${error.message}`, true);
  }
  refresh();
}

// Journal: polled with since=, newest first ------------------------------------------------------

const entries = [];
let lastId = 0;
let selected = null;

async function pollJournal() {
  try {
    const answer = await api("GET", `/requests?since=${lastId}&limit=${POLL_LIMIT}`);
    for (const entry of answer.requests) {
      entries.unshift(entry);
      lastId = Math.max(lastId, entry.id);
    }
    entries.length = Math.min(entries.length, KEEP_ENTRIES);
    if (answer.requests.length) renderJournal();
  } catch (error) {
    status(error.message, true);
  }
}

function matchesFilters(entry) {
  const provider = $("#f-provider").value;
  const tenant = $("#f-tenant").value.trim();
  const operation = $("#f-operation").value.trim();
  const ok = entry.status >= 200 && entry.status < 300;
  return (!provider || entry.provider === provider)
    && (!tenant || (entry.tenant || "").includes(tenant))
    && (!operation || (entry.operation || entry.path).includes(operation))
    && ($("#f-status").value === "" || ($("#f-status").value === "ok") === ok)
    && (!$("#f-fault").checked || entry.faults.length > 0);
}

function renderJournal() {
  const rows = entries.filter(matchesFilters).map((e) => `
    <tr data-id="${e.id}" class="${e.id === selected ? "selected" : ""}">
      <td>${e.id}</td><td>${esc(e.time.slice(11, 19))}</td><td>${esc(e.provider)}</td>
      <td>${esc(e.operation || e.path)}</td><td>${esc(e.tenant)}</td>
      <td class="${e.status < 300 ? "good" : "bad"}">${e.status}</td>
      <td>${e.latency_ms.toFixed(1)}</td><td class="bad">${esc(e.faults.join(", "))}</td>
    </tr>`);
  $("#journal-table tbody").innerHTML = rows.join("");
}

for (const id of ["#f-provider", "#f-tenant", "#f-operation", "#f-status", "#f-fault"]) {
  $(id).addEventListener("input", renderJournal);
}

$("#journal-table tbody").addEventListener("click", (event) => {
  const row = event.target.closest("tr");
  if (!row) return;
  selected = Number(row.dataset.id);
  renderJournal();
  renderExchange(entries.find((e) => e.id === selected));
});

function pretty(value) {
  return esc(typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

function bodyPanes(title, body) {
  const decrypted = body.decrypted !== undefined
    ? `<div><h4>${title}, decrypted</h4><pre class="decrypted">${pretty(body.decrypted)}</pre></div>` : "";
  return `<div><h4>${title} on the wire (${body.size} bytes)</h4><pre>${pretty(body.raw)}</pre></div>${decrypted}`;
}

/** The raw request as a curl command, with the headers it came with (the transport's own
 * left to curl). */
function asCurl(entry) {
  const body = typeof entry.request.raw === "string" ? entry.request.raw : JSON.stringify(entry.request.raw);
  const quote = (text) => `'${text.replace(/'/g, "'\\''")}'`;
  const skipped = new Set(["host", "content-length", "connection", "accept-encoding"]);
  const headers = entry.request_headers
    .filter(([name]) => !skipped.has(name))
    .map(([name, value]) => ` -H ${quote(`${name}: ${value}`)}`)
    .join("");
  const data = entry.request.size ? ` --data-raw ${quote(body)}` : "";
  return `curl -X ${entry.method} ${quote(location.origin + entry.path)}${headers}${data}`;
}

function renderExchange(entry) {
  if (!entry) return;
  const facts = [
    `${esc(entry.method)} ${esc(entry.path)} → <b>${entry.status}</b> in ${entry.latency_ms.toFixed(2)} ms`,
    `provider ${esc(entry.provider)}, operation ${esc(entry.operation)}, merchant ${esc(entry.tenant ?? "none")}`,
    `sandbox time ${esc(entry.sandbox_time ?? "-")}${entry.tls ? `, over ${esc(entry.tls)}` : ""}`,
  ];
  if (entry.faults.length) facts.push(`<span class="bad">fault rules fired: ${esc(entry.faults.join(", "))}</span>`);
  if (entry.note) facts.push(`note: ${esc(entry.note)}`);
  $("#exchange").innerHTML = `
    <h3>Exchange #${entry.id}</h3><p>${facts.join("<br>")}</p>
    <button id="copy-curl">Copy as curl</button>
    <details><summary>Headers</summary><div class="pair">
      <div><h4>Request</h4><pre class="headers">${esc(entry.request_headers.map(([name, value]) => `${name}: ${value}`).join("\n"))}</pre></div>
      <div><h4>Response</h4><pre class="response-headers">${esc(entry.response_headers.map(([name, value]) => `${name}: ${value}`).join("\n"))}</pre></div>
    </div></details>
    <div class="pair">${bodyPanes("Request", entry.request)}</div>
    <div class="pair">${bodyPanes("Response", entry.response)}</div>`;
  $("#copy-curl").addEventListener("click", () => {
    navigator.clipboard.writeText(asCurl(entry)).then(() => status("copied"), () => status(asCurl(entry)));
  });
  if (entry.tenant) linkTouched(entry).catch(() => {});
}

/** Every string inside a JSON value. */
function strings(value, out = new Set()) {
  if (typeof value === "string") out.add(value);
  else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
  return out;
}

/** Links to the cards and cardholders an exchange names (by id, token or number), found in its
 * bodies, raw and decrypted. */
async function linkTouched(entry) {
  const state = await api("GET", `/state?tenant=${encodeURIComponent(entry.tenant)}`);
  const seen = strings([entry.request.raw, entry.request.decrypted, entry.response.raw, entry.response.decrypted]);
  const cards = Object.values(state.cards).filter((c) => seen.has(c.id) || seen.has(c.token) || seen.has(c.pan));
  const holders = Object.values(state.cardholders).filter((h) => seen.has(h.id) || seen.has(h.email));
  if (!cards.length && !holders.length) return;
  const links = [
    ...cards.map((c) => `<a href="#" data-tenant="${esc(entry.tenant)}" data-row='tr[data-card="${esc(c.id)}"]'>card ${esc(c.id)}</a>`),
    ...holders.map((h) => `<a href="#" data-tenant="${esc(entry.tenant)}" data-row='tr[data-holder="${esc(h.id)}"]'>cardholder ${esc(h.id)}</a>`),
  ];
  $("#exchange h3").insertAdjacentHTML("afterend", `<p class="touched">Touched: ${links.join(", ")}</p>`);
}

$("#exchange").addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-row]");
  if (!link) return;
  event.preventDefault();
  show("merchants");
  $("#tenant").value = link.dataset.tenant;
  await renderMerchants();
  const row = document.querySelector(link.dataset.row);
  if (row) { row.classList.add("selected"); row.scrollIntoView({ block: "center" }); }
});

// Merchants ---------------------------------------------------------------------------------------

async function loadTenants() {
  const clocks = await api("GET", "/clock");
  const select = $("#tenant");
  const current = select.value;
  select.innerHTML = clocks.clocks.map((c) => `<option>${esc(c.tenant)}</option>`).join("");
  if (current) select.value = current;
  return clocks;
}

/** Per currency: every account and card balance, net of what left or entered through
 * purchases; it never moves unless money is created or lost. */
function invariant(state) {
  const totals = {};
  const add = (m, sign = 1) => {
    if (!m) return;
    totals[m.currency] = (totals[m.currency] || 0) + sign * Math.round(Number(m.amount) * 100);
  };
  Object.values(state.accounts).forEach((m) => add(m));
  Object.values(state.cards).forEach((c) => { add(c.available); add(c.blocked); });
  Object.values(state.holder_accounts).forEach((byCurrency) => Object.values(byCurrency).forEach((m) => add(m)));
  Object.values(state.external).forEach((m) => add(m, -1));
  return Object.entries(totals).map(([currency, cents]) => `${(cents / 100).toFixed(2)} ${esc(currency)}`).join(", ");
}

async function renderMerchants() {
  const clocks = await loadTenants();
  const tenant = $("#tenant").value;
  const state = await api("GET", `/state?tenant=${encodeURIComponent(tenant)}`);
  const clock = clocks.clocks.find((c) => c.tenant === tenant);
  $("#clock").textContent = clock ? `sandbox time ${clock.now}${clock.frozen ? " (frozen)" : ""}` : "";
  $("#money").innerHTML = `<p>Accounts: ${Object.values(state.accounts).map(money).join(", ") || "none"}<br>
    Invariant (balances minus external flows): <span id="invariant">${invariant(state)}</span></p>`;
  $("#holders tbody").innerHTML = Object.values(state.cardholders).map((h) => `
    <tr data-holder="${esc(h.id)}"><td>${esc(h.id)}</td><td>${esc(`${h.first_name} ${h.last_name}`)}</td><td>${esc(h.email)}</td>
      <td>${esc(h.issuer ?? "")}</td><td class="kyc">${esc(h.kyc.status)}${h.kyc.reason ? ` (${esc(h.kyc.reason)})` : ""}</td>
      <td>${h.kyc.status === "pending" ? `<button data-decide="passed">Approve</button> <button data-decide="rejected">Reject</button>` : ""}</td></tr>`).join("");
  $("#cards tbody").innerHTML = Object.values(state.cards).map((c) => `
    <tr data-card="${esc(c.id)}"><td>${esc(c.id)}</td><td>${esc(c.issuer ?? "")}</td><td>${esc(c.cardholder_id ?? "")}</td>
      <td class="card-status">${esc(c.status)}</td><td class="available">${money(c.available)}</td><td class="blocked">${money(c.blocked)}</td>
      <td><form class="inline post"><select name="kind"><option>authorization</option><option>clearing</option><option>reversal</option><option>refund</option></select>
        <input name="amount" value="10.00" size="7" aria-label="Amount"><input name="authorization" size="14" placeholder="of authorization…" aria-label="Authorization id (clearing, reversal)"><button>Post</button></form>
        <select class="set-status" aria-label="Set status"><option value="">status…</option><option>active</option><option>inactive</option><option>frozen</option><option>lost</option></select></td></tr>`).join("");
  $("#transactions tbody").innerHTML = state.transactions.slice(-50).reverse().map((t) => `
    <tr><td>${esc(t.id)}</td><td>${esc(t.card_id)}</td><td>${esc(t.kind)}</td><td>${esc(t.status)}</td><td>${money(t.amount)}</td><td>${esc(t.created_at)}</td></tr>`).join("");
}

$("#tenant").addEventListener("change", () => refresh());

$("#holders").addEventListener("click", (event) => {
  const decision = event.target.dataset.decide;
  if (!decision) return;
  const cardholder = event.target.closest("tr").dataset.holder;
  act(`KYC ${decision}`, () => api("POST", "/simulate/kyc", { cardholder, decision, tenant: $("#tenant").value }));
});

$("#cards").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const card = form.closest("tr").dataset.card;
  const body = { card, kind: form.kind.value, amount: form.amount.value, tenant: $("#tenant").value };
  if (form.authorization.value.trim()) body.authorization_id = form.authorization.value.trim();
  act(`${body.kind} on ${card}`, () => api("POST", "/simulate/transaction", body));
});

$("#cards").addEventListener("change", (event) => {
  if (!event.target.classList.contains("set-status") || !event.target.value) return;
  const card = event.target.closest("tr").dataset.card;
  const body = { card, status: event.target.value, tenant: $("#tenant").value };
  act(`card ${card} ${body.status}`, () => api("POST", "/simulate/card-status", body));
});

$("#advance-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const tenant = $("#tenant").value || undefined;
  act("clock advanced", () => api("POST", "/clock/advance", { by: $("#advance-by").value, tenant }));
});

$("#set-clock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { now: $("#set-clock-at").value.trim(), frozen: $("#set-clock-frozen").checked, tenant: $("#tenant").value || undefined };
  act("clock set", () => api("PUT", "/clock", body));
});

$("#reset-tenant").addEventListener("click", () => {
  act("merchant reset", () => api("POST", "/reset", { tenant: $("#tenant").value }));
});

// Timeline and webhooks ------------------------------------------------------------------------

async function renderWebhooks() {
  await loadTenants();
  const state = await api("GET", `/state?tenant=${encodeURIComponent($("#tenant").value)}`);
  $("#timeline tbody").innerHTML = state.timeline.map((s) => `
    <tr><td>${esc(s.due)}</td><td>${esc(s.event)} ${esc(JSON.stringify(s))}</td></tr>`).join("");
  $("#deliveries tbody").innerHTML = state.deliveries.map((d) => `
    <tr><td>${d.id}</td><td>${esc(d.provider)}</td><td>${esc(d.event)}</td><td>${esc(d.state)}</td><td>${esc(d.next_at ?? "")}</td>
      <td class="attempts">${d.attempts.map((a) => `${esc(a.at)}: ${a.status ?? esc(a.error)}${a.note ? ` (${esc(a.note)})` : ""}`).join("<br>")}</td></tr>`).join("");
  $("#events tbody").innerHTML = state.events_log.map((e) => `
    <tr><td>${esc(e.at)}</td><td>${esc(e.label ?? "")}</td><td>${esc(e.action.action)}</td><td>${esc(e.outcome)}</td></tr>`).join("");
}

// Faults -------------------------------------------------------------------------------------------

async function renderFaults() {
  const answer = await api("GET", "/faults");
  $("#fault-list tbody").innerHTML = answer.faults.map((f) => `
    <tr><td>${esc(f.rule.id)}</td><td><code>${esc(JSON.stringify(f.rule))}</code></td><td>${f.matches}</td><td>${f.fired}</td>
      <td><button data-switch="${f.disabled ? "enable" : "disable"}" data-id="${esc(f.rule.id)}">${f.disabled ? "Enable" : "Disable"}</button>
        <button data-remove="${esc(f.rule.id)}">Remove</button></td></tr>`).join("");
}

$("#fault-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const rule = { action: JSON.parse($("#fault-action").value) };
  if ($("#fault-provider").value) rule.match = { provider: $("#fault-provider").value };
  if ($("#fault-first").value) rule.when = { first: Number($("#fault-first").value) };
  act("fault rule added", () => api("POST", "/faults", rule));
});

$("#fault-json-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("fault rule added", async () => api("POST", "/faults", JSON.parse($("#fault-json").value)));
});

$("#fault-list").addEventListener("click", (event) => {
  const { remove, switch: turn, id } = event.target.dataset;
  if (remove) act(`rule ${remove} removed`, () => api("DELETE", `/faults/${encodeURIComponent(remove)}`));
  if (turn) act(`rule ${id} ${turn}d`, () => api("POST", `/faults/${encodeURIComponent(id)}/${turn}`));
});

// Scenario -----------------------------------------------------------------------------------------

async function renderScenario() {
  const scenario = await api("GET", "/scenario");
  $("#scenario-name").textContent = `Running: ${scenario.name} (${scenario.origin}), seed ${scenario.seed}`;
  if (!$("#scenario-yaml").value) $("#scenario-yaml").value = scenario.source;
}

$("#scenario-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#scenario-problems").innerHTML = "";
  try {
    await api("PUT", "/scenario", $("#scenario-yaml").value);
    status("scenario loaded");
  } catch (error) {
    const problems = error.answer?.problems ?? [{ message: error.message }];
    $("#scenario-problems").innerHTML = problems.map((p) => `
      <li>${p.line ? `line ${p.line}, column ${p.column}: ` : ""}${esc(p.message)}${p.snippet ? `<pre>${esc(p.snippet)}</pre>` : ""}</li>`).join("");
    status("the scenario was not loaded", true);
  }
  refresh();
});

$("#reset-all").addEventListener("click", () => act("everything reset", () => api("POST", "/reset")));

// Refresh loop ---------------------------------------------------------------------------------------

async function refresh() {
  try {
    if (view === "merchants") await renderMerchants();
    if (view === "webhooks") await renderWebhooks();
    if (view === "faults") await renderFaults();
    if (view === "scenario") await renderScenario();
  } catch (error) {
    status(error.message, true);
  }
}

/** The scenario's name and the providers (for the filters), once the API answers. */
async function loadHealth() {
  try {
    const health = await api("GET", "/health");
    const options = `<option value="">any</option>` + health.providers.map((p) => `<option>${esc(p)}</option>`).join("");
    $("#f-provider").innerHTML = options;
    $("#fault-provider").innerHTML = options;
    status(`${health.scenario} · ${health.version}`);
  } catch (error) {
    status(error.message, true);
  }
}

async function start() {
  await loadHealth();
  for (;;) {
    await pollJournal();
    if (view !== "journal" && view !== "scenario") await refresh();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

start();
