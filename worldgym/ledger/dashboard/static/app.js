// WorldGym ledger dashboard: renders the JSON API of the server that served this page.
// No dependencies and no network beyond this origin. Amounts arrive as decimal strings (wei)
// and are formatted with BigInt, so they are exact.
"use strict";

const WAD = 10n ** 18n;
const ROLE_TITLES = { miner: "Miners", validator: "Validators", env: "Environments" };
const view = document.getElementById("view");
let leaderboardRole = "miner";
let leaderboardEpochs = "";

// ─── helpers ────────────────────────────────────────────────────────────────

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function wgt(wei, decimals = 4) {
  if (wei === null || wei === undefined) return "";
  let v = BigInt(wei);
  const sign = v < 0n ? "-" : "";
  if (v < 0n) v = -v;
  const whole = (v / WAD).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (v % WAD).toString().padStart(18, "0").slice(0, decimals);
  return sign + whole + (decimals ? "." + frac : "");
}

const pct = (bps) => (bps === null || bps === undefined ? "" : (bps / 100).toFixed(2) + "%");
const FRAUD = 0x3FFF;
// A consensus or revealed score: a percentage, or a FRAUD flag.
const score = (bps) => (bps === FRAUD ? h("span", { class: "fraud" }, "FRAUD") : pct(bps));
const short = (a) => (a && a.length > 14 ? a.slice(0, 8) + "…" + a.slice(-4) : a || "");
const addr = (a) => h("a", { href: "#/address/" + a, class: "mono", title: a }, short(a));
const epochLink = (e) => h("a", { href: "#/epoch/" + e }, String(e));
const envLink = (id) => h("a", { href: "#/env/" + id }, "env " + id);
const phase = (p) => h("span", { class: "phase " + p }, p);
const yesno = (b) => h("span", { class: b ? "yes" : "no" }, b ? "yes" : "no");

function table(columns, rows, attrs) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: [c.left ? "left" : "", c.mono ? "mono" : ""]
    .join(" ").trim() || null }, typeof c === "object" ? c.title : c)));
  const body = rows.map((r) => h("tr", r.attrs || {}, r.cells.map((cell, i) =>
    h("td", { class: columns[i].left ? "left" : null }, cell))));
  return h("table", attrs || {}, h("thead", {}, head), h("tbody", {}, body));
}

function card(title, ...content) {
  return h("section", { class: "card" }, h("h2", {}, title), ...content);
}

function wide(el) { el.classList.add("wide"); return el; }

async function api(path) {
  const response = await fetch("/api/" + path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function plot(src, alt, missing) {
  const img = h("img", { class: "plot", src, alt });
  img.addEventListener("error", () => img.replaceWith(h("p", { class: "muted" }, missing)));
  return img;
}

function showError(err) {
  view.replaceChildren(wide(card("Not found", h("p", {}, err.message))));
}

// ─── header ─────────────────────────────────────────────────────────────────

async function refreshStatus() {
  const status = document.getElementById("status");
  const banner = document.getElementById("banner");
  try {
    const { ledger, sync } = await api("status");
    status.textContent = `chain ${ledger.chain_id} · block ${ledger.indexed_block} indexed ` +
      `(head ${ledger.head_block}) · ${ledger.phase}`;
    banner.hidden = sync.ok !== false;
    banner.className = "banner error";
    banner.textContent = sync.ok === false ? "Not syncing: " + sync.error : "";
  } catch (err) {
    status.textContent = err.message;
  }
}

// ─── views ──────────────────────────────────────────────────────────────────

async function leaderboardCard() {
  const section = card("Leaderboard");
  const tabs = h("div", { class: "tabs" },
    Object.entries(ROLE_TITLES).map(([role, title]) => h("button", {
      type: "button", "data-role": role, class: role === leaderboardRole ? "active" : null,
      onclick: () => { leaderboardRole = role; route(); },
    }, title)),
    h("input", { id: "epochs-input", placeholder: "epochs A:B", value: leaderboardEpochs,
      onchange: (e) => { leaderboardEpochs = e.target.value.trim(); route(); } }));
  section.querySelector("h2").append(tabs);
  const query = "top?role=" + leaderboardRole + "&limit=15" +
    (leaderboardEpochs ? "&epochs=" + encodeURIComponent(leaderboardEpochs) : "");
  const top = await api(query);
  let columns, rows;
  if (top.role === "env") {
    columns = ["#", { title: "environment", left: true }, "royalties", "epochs", "batches", "traces",
      "consensus", { title: "owner", left: true }];
    rows = top.rows.map((r) => ({ attrs: { "data-subject": r.subject }, cells: [r.rank,
      envLink(r.subject), h("span", { class: "reward" }, wgt(r.reward)), r.epochs, r.batches,
      r.traces, pct(r.consensus_bps), addr(r.owner)] }));
  } else if (top.role === "validator") {
    columns = ["#", { title: "validator", left: true }, "rewards", "epochs", "stake", "agreement",
      "slashed"];
    rows = top.rows.map((r) => ({ attrs: { "data-subject": r.subject }, cells: [r.rank,
      addr(r.subject), h("span", { class: "reward" }, wgt(r.reward)), r.epochs, wgt(r.stake),
      pct(r.agreement_bps), wgt(r.slashed)] }));
  } else {
    columns = ["#", { title: "miner", left: true }, "rewards", "epochs", "batches", "traces",
      "consensus"];
    rows = top.rows.map((r) => ({ attrs: { "data-subject": r.subject }, cells: [r.rank,
      addr(r.subject), h("span", { class: "reward" }, wgt(r.reward)), r.epochs, r.batches,
      r.traces, pct(r.consensus_bps)] }));
  }
  section.append(rows.length ? table(columns, rows, { id: "leaderboard" })
    : h("p", { id: "leaderboard", class: "muted" }, "nobody has earned anything yet"));
  return section;
}

async function epochsCard() {
  const epochs = await api("epochs?limit=12");
  return card("Epochs", table(
    ["epoch", { title: "phase", left: true }, "batches", "traces", "validators", "minted",
      "credited"],
    epochs.map((e) => ({ cells: [epochLink(e.epoch), phase(e.phase), e.batches, e.traces,
      e.validators, wgt(e.minted), wgt(e.credited)] })), { id: "epochs" }));
}

async function envsCard() {
  const envs = await api("envs");
  return card("Environments", envs.length ? table(
    [{ title: "environment", left: true }, { title: "owner", left: true }, "versions", "active",
      "batches", "traces", "royalties"],
    envs.map((e) => ({ cells: [envLink(e.env_id), addr(e.owner), e.versions, yesno(e.active),
      e.batches, e.traces, wgt(e.royalty)] })), { id: "envs" })
    : h("p", { class: "muted" }, "no environment registered yet"));
}

async function modelsCard() {
  const models = await api("models");
  const summary = (doc) => {
    const p = doc.pass_at_1;  // the refinery's worldgym.metrics/1 document
    if (p && typeof p.candidate === "number" && typeof p.parent === "number") {
      return `pass@1 ${p.candidate.toFixed(3)} (parent ${p.parent.toFixed(3)})`;
    }
    return Object.entries(doc).filter(([, v]) => typeof v !== "object").slice(0, 4)
      .map(([k, v]) => `${k} ${typeof v === "number" ? +v.toFixed(4) : v}`).join(", ");
  };
  const metrics = (m) => m.metrics ?
    summary(m.metrics) + (m.metrics_verified ? " ✓" : " (digest differs)") : "—";
  return card("Model lineage", models.length ? table(
    ["model", "parent", { title: "checkpoint", left: true }, { title: "dataset", left: true },
      "batches", "traces", { title: "metrics", left: true }],
    models.map((m) => ({ cells: [m.model_id, m.parent_id || "base",
      h("span", { class: "mono", title: m.checkpoint_cid }, short(m.checkpoint_cid)),
      h("span", { class: "mono", title: m.dataset_cid || "" }, short(m.dataset_cid) || "—"),
      m.batches, m.traces, metrics(m)] })), { id: "models" })
    : h("p", { class: "muted" }, "no model registered yet"));
}

async function home() {
  const sections = await Promise.all([leaderboardCard(), epochsCard(), envsCard(), modelsCard()]);
  view.replaceChildren(
    sections[0], sections[1],
    wide(card("Rewards per epoch", plot("/plot/rewards.png", "rewards per epoch", "no rewards yet"))),
    sections[2], sections[3],
    wide(card("Refinery learning curve", plot("/plot/learning_curve.png", "learning curve",
      "The refinery has not written a learning curve yet."))));
}

function stat(label, value, id) {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value));
}

async function addressView(address) {
  const r = await api("address/" + encodeURIComponent(address));
  const parts = [wide(card(h("span", { class: "mono", id: "address-title" }, r.address),
    h("div", { class: "cards" },
      stat("credited", wgt(r.credited), "address-credited"),
      stat("claimed", wgt(r.claimed), "address-claimed"),
      stat("claimable", wgt(r.claimable), "address-claimable"),
      r.balance !== null && r.balance !== undefined ? stat("wallet balance", wgt(r.balance),
        "address-balance") : null,
      Object.entries(r.by_role).filter(([, v]) => v !== "0")
        .map(([role, v]) => stat("as " + role, wgt(v))),
      r.slashed !== "0" ? stat("slashed as validator", wgt(r.slashed)) : null,
      r.miner_slashed !== "0" ? stat("slashed as miner", wgt(r.miner_slashed), "address-miner-slashed")
        : null)))];
  if (r.rewards.length) {
    parts.push(wide(card("Rewards per epoch", plot("/plot/rewards.png?address=" + r.address,
      "rewards of this address", "no plot"))));
  }
  if (r.miner.length) {
    parts.push(card("As miner", table(["epoch", "batches", "traces", "consensus", "FRAUD", "reward",
      "slashed"], r.miner.map((m) => ({ cells: [epochLink(m.epoch), m.batches, m.traces,
        pct(m.consensus_bps), m.fraud || "", wgt(m.reward), m.slashed !== "0" ? wgt(m.slashed) : ""] })),
      { id: "as-miner" })));
  }
  if (r.validator) {
    const v = r.validator;
    parts.push(card(h("span", {}, "As validator ", h("small", {}, `stake ${wgt(v.stake)} · ` +
      `unbonding ${wgt(v.unbonding)}`)), table(
      ["epoch", "stake", "revealed", "agreement", "reward", "slashed"],
      v.epochs.map((e) => ({ cells: [epochLink(e.epoch), wgt(e.stake), yesno(e.revealed),
        pct(e.agreement_bps), wgt(e.reward), wgt(e.slashed)] })), { id: "as-validator" })));
  }
  if (r.royalties.length) {
    parts.push(card("As environment owner", table(
      [{ title: "environment", left: true }, "payments", "royalties", "owner now"],
      r.royalties.map((x) => ({ cells: [envLink(x.env_id), x.payments, wgt(x.royalty),
        yesno(x.owner_now)] })), { id: "royalties" })));
  }
  if (r.recent_batches.length) {
    parts.push(wide(card("Recent batches", batchTable(r.recent_batches, []))));
  }
  view.replaceChildren(...parts);
}

// A validator's revealed score for a batch, starred when its whole lane (score and digest) is the
// consensus lane: only those batches earn it credit.
function revealed(v, index) {
  if (!v.scores) return "—";
  const matched = v.matches && v.matches[index];
  return h("span", { class: matched ? "match" : null, title: matched ? "consensus lane" : null },
    score(v.scores[index]), matched ? "*" : "");
}

function batchTable(batches, validators) {
  const columns = ["epoch", "batch", { title: "miner", left: true }, { title: "env", left: true },
    "traces", "model", "consensus", ...validators.map((v) => ({ title: short(v.validator), mono: true })),
    "miner reward", "royalty", "miner slashed"];
  return table(columns, batches.map((b) => ({ attrs: b.fraud ? { class: "fraud-row" } : {},
    cells: [epochLink(b.epoch), b.index, addr(b.miner),
    h("span", {}, envLink(b.env_id), " v" + b.env_version), b.traces, b.model_id,
    score(b.consensus), ...validators.map((v) => revealed(v, b.index)),
    wgt(b.miner_reward), wgt(b.royalty), b.miner_slashed !== "0" ? wgt(b.miner_slashed) : ""] })),
    { id: "batches" });
}

async function epochView(epoch) {
  const r = await api("epoch/" + epoch);
  const w = r.windows;
  const s = r.settlement;
  const split = s ? table([{ title: "", left: true }, "WGT"], [
    ["minted", s.minted], ["carried in", s.carried_in], ["miner pot", s.miner_pot],
    ["validator pot", s.validator_pot], ["environment pot", s.environment_pot],
    ...Object.entries(r.rewards).map(([role, v]) => ["credited to " + role + "s", v]),
    ...(r.miner_slashed !== "0" ? [["miners slashed (FRAUD)", r.miner_slashed]] : []),
    ...(s.carry_out !== null ? [["carry out", s.carry_out]] : []),
  ].map(([k, v]) => ({ cells: [k, wgt(v)] })), { id: "split" }) : h("p", { class: "muted" }, "not settled yet");
  view.replaceChildren(
    wide(card(h("span", {}, `Epoch ${r.epoch} `, phase(r.phase)), h("p", { class: "muted" },
      `submit ${w.submit[0]}–${w.submit[1] - 1} · commit ${w.commit[0]}–${w.commit[1] - 1} · ` +
      `reveal ${w.reveal[0]}–${w.reveal[1] - 1} · finalize from ${w.finalize[0]} · seed ` +
      (r.seed ? short(r.seed) : "not set")))),
    wide(card("Batches and scores per validator (* = the validator's lane is the consensus)",
      r.batches.length ? batchTable(r.batches, r.validators.slice(0, 8))
        : h("p", { class: "muted" }, "no batch"))),
    card("Environment weights", Object.keys(r.env_weights).length
      ? table([{ title: "environment", left: true }, "weight"], Object.entries(r.env_weights)
        .map(([env, w]) => ({ cells: [envLink(env), pct(w)] })), { id: "env-weights" })
      : h("p", { class: "muted" }, "not scored yet")),
    card("Validators", table([{ title: "validator", left: true }, "stake", "revealed", "agreement",
      "reward", "slashed"], r.validators.map((v) => ({ cells: [addr(v.validator), wgt(v.stake),
      yesno(v.revealed), pct(v.agreement_bps), wgt(v.reward), wgt(v.slashed)] })),
      { id: "validators" })),
    card("Emission split", split));
}

async function envView(id) {
  const r = await api("env/" + id);
  view.replaceChildren(
    wide(card(`Environment ${r.env_id}`, h("div", { class: "cards" },
      stat("owner", addr(r.owner)), stat("royalties", wgt(r.royalty), "env-royalty"),
      stat("batches", r.batches), stat("traces", r.traces), stat("bond", wgt(r.bond)),
      stat("state", r.active ? "active" : "deactivated")))),
    card("Versions", table(["version", { title: "spec", left: true }, "block"],
      r.versions.map(([v, cid, block]) => ({ cells: [v, h("span", { class: "mono" }, cid), block] })))),
    card("Per epoch", table(["epoch", "batches", "traces", "consensus", "weight", "royalties"],
      r.epochs.map((e) => ({ cells: [epochLink(e.epoch), e.batches, e.traces,
        pct(e.consensus_bps), pct(e.weight), wgt(e.royalty)] })), { id: "env-epochs" })));
}

// ─── routing ────────────────────────────────────────────────────────────────

async function route() {
  const [, kind, arg] = (location.hash || "#/").split("/");
  try {
    if (kind === "address" && arg) await addressView(decodeURIComponent(arg));
    else if (kind === "epoch" && arg) await epochView(arg);
    else if (kind === "env" && arg) await envView(arg);
    else await home();
    document.body.dataset.view = kind || "home";
  } catch (err) {
    showError(err);
    document.body.dataset.view = "error";
  }
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = document.getElementById("search-input").value.trim();
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) location.hash = "#/address/" + q;
  else if (/^\d+$/.test(q)) location.hash = "#/epoch/" + q;
  else if (/^env:?\s*\d+$/i.test(q)) location.hash = "#/env/" + q.replace(/\D/g, "");
  else showError(new Error(`"${q}" is not an address (0x + 40 hex digits), an epoch or env:ID`));
});
window.addEventListener("hashchange", route);
refreshStatus();
setInterval(refreshStatus, 5000);
route();
