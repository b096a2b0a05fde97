// votecheck preview console: chat as a simulated citizen through the real webhook handler, and
// show beside each reply why the bot said it. No framework, no external assets.
"use strict";

const $ = (id) => document.getElementById(id);
const answers = new Map(); // bot bubble id -> {answer, latency}
let citizen = sessionStorage.getItem("votecheck.citizen") || newCitizen();
let outboxSeq = 0;
let bubbleCount = 0;
// Outbox entries already in the chat (answers to the citizen's messages, alerts sent from here),
// so that polling adds only what reached the citizen otherwise (a late verdict).
const shownSeqs = new Set();
let inFlight = 0;

function newCitizen() {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  const id = "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  sessionStorage.setItem("votecheck.citizen", id);
  return id;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Only web addresses become links (a corpus or a reply could carry `javascript:` or `data:`).
function isWebUrl(url) {
  return typeof url === "string" && /^https?:\/\/[^\s]/i.test(url);
}

// One line of WhatsApp text: links, ```mono```, `code`, *bold*, _italic_, ~strike~. Links are
// set aside as NUL-delimited placeholders while the rest is formatted, so NULs in the text itself
// are replaced first (a reply holding "\u00000\u0000" broke the formatter and froze the outbox).
function inline(line) {
  const links = [];
  let html = String(line).replace(/\u0000/g, "\uFFFD").replace(/https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]]/g, (url) => {
    links.push(url);
    return "\u0000" + (links.length - 1) + "\u0000";
  });
  html = escapeHtml(html)
    .replace(/```([^`]+)```/g, "<code>$1</code>")
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/(^|[^\w_])_(?=\S)([^_]*?\S)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w~])~(?=\S)([^~]*?\S)~(?!\w)/g, "$1<del>$2</del>");
  return html.replace(/\u0000(\d+)\u0000/g, (placeholder, index) => {
    const link = links[Number(index)];
    if (link === undefined) return "";
    const url = escapeHtml(link);
    return `<a href="${url}" target="_blank" rel="noopener">${url}</a>`;
  });
}

// A whole WhatsApp message: consecutive "> " lines become one quote block.
function formatWhatsApp(text) {
  const out = [];
  let quote = [];
  const flush = () => {
    if (quote.length) out.push("<blockquote>" + quote.join("<br>") + "</blockquote>");
    quote = [];
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("> ")) {
      quote.push(inline(line.slice(2)));
    } else {
      flush();
      out.push(inline(line) + "<br>");
    }
  }
  flush();
  return out.join("").replace(/(<br>)+$/, "");
}

function time() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function addBubble(kind, html) {
  const item = document.createElement("li");
  item.className = "bubble " + kind;
  item.id = "bubble-" + ++bubbleCount;
  item.innerHTML = html + `<span class="time">${time()}</span>`;
  $("chat").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function addCitizenBubble(text, forwarded) {
  const label = forwarded ? '<div class="forwarded-label">↪ Forwarded</div>' : "";
  const bubble = addBubble("citizen", label + escapeHtml(text));
  bubble.dataset.text = text;
  return bubble;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${path}: HTTP ${response.status}`);
  return data;
}

// Sends one message (text, tapped button or list row) and shows what came back.
async function send(message, shownText, forwarded) {
  const quoted = addCitizenBubble(shownText, forwarded);
  inFlight += 1;
  try {
    const exchange = await post("/api/messages", Object.assign({ citizen }, message));
    showExchange(exchange, quoted);
  } catch (problem) {
    addBubble("notice", escapeHtml("The console could not reach the server: " + problem.message));
  } finally {
    inFlight -= 1;
  }
}

function showExchange(exchange, quoted) {
  let first = null;
  for (const reply of exchange.replies) {
    shownSeqs.add(reply.seq);
    const bubble = addBotBubble(reply.content, reply.reply_to ? quoted : null);
    first = first || bubble;
  }
  if (!exchange.replies.length) {
    addBubble("notice", escapeHtml(`No reply (${exchange.outcomes.join(", ") || "HTTP " + exchange.status})`));
  }
  if (first) {
    answers.set(first.id, { answer: exchange.answer, latency: exchange.latency_ms, outcomes: exchange.outcomes });
    selectBubble(first);
  }
}

// The text a message shows: its body, or for a template (whose text WhatsApp holds) its name,
// language and parameters.
function contentText(content) {
  if (content.type === "template") {
    const parameters = (content.body_parameters || []).join(" · ");
    return `_template ${content.name} (${content.language})_` + (parameters ? `\n${parameters}` : "");
  }
  return content.body || "";
}

function addBotBubble(content, quoted) {
  const quote = quoted ? `<div class="quoted">${escapeHtml(quoted.dataset.text.slice(0, 80))}</div>` : "";
  const bubble = addBubble("bot", quote + `<div class="body">${formatWhatsApp(contentText(content))}</div>`);
  if (content.type === "buttons") {
    const choices = document.createElement("div");
    choices.className = "choices";
    for (const button of content.buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "reply-button";
      element.textContent = button.title;
      element.dataset.id = button.id;
      element.addEventListener("click", (event) => {
        event.stopPropagation();
        choices.querySelectorAll("button").forEach((b) => (b.disabled = true));
        send({ button: { id: button.id, title: button.title } }, button.title, false);
      });
      choices.appendChild(element);
    }
    bubble.insertBefore(choices, bubble.querySelector(".time"));
  } else if (content.type === "list") {
    const choices = document.createElement("div");
    choices.className = "choices";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "list-open";
    open.textContent = "☰ " + content.button;
    open.addEventListener("click", (event) => {
      event.stopPropagation();
      openList(content);
    });
    choices.appendChild(open);
    bubble.insertBefore(choices, bubble.querySelector(".time"));
  }
  bubble.addEventListener("click", () => selectBubble(bubble));
  return bubble;
}

function openList(content) {
  $("list-title").textContent = content.section_title || content.button;
  const rows = $("list-rows");
  rows.replaceChildren();
  for (const row of content.rows) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "list-row";
    button.dataset.id = row.id;
    button.textContent = row.title;
    if (row.description) {
      const description = document.createElement("small");
      description.textContent = row.description;
      button.appendChild(description);
    }
    button.addEventListener("click", () => {
      $("list-sheet").hidden = true;
      send({ row: { id: row.id, title: row.title } }, row.title, false);
    });
    item.appendChild(button);
    rows.appendChild(item);
  }
  $("list-sheet").hidden = false;
}

// The alert files the server offers; choosing one sends it (in-process queue, dry run) and shows
// what reached this citizen, rendered as the template message they would receive.
async function openAlerts() {
  let listed;
  try {
    listed = await (await fetch("/api/alerts")).json();
  } catch (problem) {
    addBubble("notice", escapeHtml("The console could not reach the server: " + problem.message));
    return;
  }
  $("list-title").textContent = listed.directory ? `Alerts in ${listed.directory}` : "No alerts directory (start with --alerts DIR)";
  const rows = $("list-rows");
  rows.replaceChildren();
  for (const alert of listed.alerts) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "list-row";
    button.dataset.file = alert.file;
    button.textContent = alert.id || alert.file;
    const description = document.createElement("small");
    description.textContent = alert.problem || `${alert.topic} · ${alert.languages.join(", ")} · ${alert.file}`;
    button.appendChild(description);
    button.disabled = Boolean(alert.problem);
    button.addEventListener("click", () => {
      $("list-sheet").hidden = true;
      sendAlert(alert.file);
    });
    item.appendChild(button);
    rows.appendChild(item);
  }
  $("list-sheet").hidden = false;
}

async function sendAlert(file) {
  inFlight += 1;
  try {
    const result = await post("/api/alerts", { file });
    addBubble("notice", escapeHtml(`${result.summary} · sent ${result.sent}, skipped ${result.skipped}, failed ${result.failed} (dry run)`));
    for (const delivery of result.deliveries) {
      shownSeqs.add(delivery.seq);
      if (delivery.to === citizen) addBotBubble(delivery.content, null);
    }
  } catch (problem) {
    addBubble("notice", escapeHtml(problem.message));
  } finally {
    inFlight -= 1;
  }
}

function selectBubble(bubble) {
  document.querySelectorAll(".bubble.selected").forEach((b) => b.classList.remove("selected"));
  bubble.classList.add("selected");
  const shown = answers.get(bubble.id);
  if (shown) showReasoning(shown);
}

function text(element, value) {
  element.textContent = value == null || value === "" ? "—" : String(value);
}

function showReasoning({ answer, latency, outcomes }) {
  $("r-empty").hidden = true;
  $("r-summary").hidden = false;
  const citations = $("r-citations");
  citations.replaceChildren();
  const factCheck = $("r-factcheck");
  factCheck.hidden = true;
  text($("r-latency"), `${latency.toFixed(1)} ms handler` + (answer ? `, ${(answer.timings.total_us / 1000).toFixed(2)} ms engine` : ""));
  if (!answer) {
    text($("r-language"), null);
    text($("r-intent"), null);
    text($("r-outcome"), outcomes.join(", "));
    text($("r-jurisdiction"), null);
    $("r-citations-title").hidden = true;
    return;
  }
  text($("r-language"), answer.language + (answer.fallback_language ? " (passages in the default language)" : ""));
  text($("r-intent"), answer.intent);
  text($("r-outcome"), answer.outcome);
  text($("r-jurisdiction"), answer.jurisdiction);
  if (answer.fact_check) {
    const check = answer.fact_check;
    factCheck.replaceChildren();
    const verdict = document.createElement("p");
    verdict.className = "verdict";
    verdict.textContent = `Fact-check: ${check.verdict || "no verdict"}`;
    const claim = document.createElement("p");
    claim.textContent = `Claim: ${check.claim}`;
    const who = document.createElement("p");
    who.textContent = `Checked by ${check.checked_by || "unknown"}${check.date ? " on " + check.date : ""} · similarity ${check.similarity.toFixed(2)}`;
    factCheck.append(verdict, claim, who);
    if (isWebUrl(check.url)) {
      const link = document.createElement("a");
      link.href = check.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = check.url;
      factCheck.appendChild(link);
    }
    factCheck.hidden = false;
  }
  $("r-citations-title").hidden = answer.citations.length === 0;
  for (const citation of answer.citations) {
    const item = document.createElement("li");
    item.className = "citation";
    const title = document.createElement("a");
    title.className = "passage-link";
    title.href = "/passages/" + encodeURIComponent(citation.passage_id);
    title.target = "_blank";
    title.textContent = citation.title;
    const where = document.createElement("div");
    where.className = "where";
    where.textContent = `${citation.section} · ${citation.source} · ${citation.language}${citation.as_of ? " · as of " + citation.as_of : ""}`;
    const scores = document.createElement("div");
    scores.className = "scores";
    scores.textContent = `score ${citation.score.toFixed(2)} · confidence ${citation.confidence.toFixed(2)} · ${citation.passage_id}`;
    const snippet = document.createElement("blockquote");
    snippet.textContent = citation.snippet;
    item.append(title, where, scores, snippet);
    citations.appendChild(item);
  }
}

async function pollOutbox() {
  // While a message is on its way its answer arrives with the exchange; poll after it.
  if (inFlight > 0) return;
  try {
    const response = await fetch(`/api/outbox?after=${outboxSeq}&citizen=${encodeURIComponent(citizen)}`);
    const data = await response.json();
    for (const entry of data.entries) {
      if (entry.console) {
        // A message to this citizen that answered nothing they sent here: a late verdict.
        if (entry.to === citizen && !shownSeqs.has(entry.seq)) {
          shownSeqs.add(entry.seq);
          addBotBubble(entry.content, null);
        }
        continue;
      }
      const item = document.createElement("li");
      try {
        const badge = entry.dry_run ? '<span class="badge">DRY RUN</span>' : "";
        const failed = entry.error ? ` <em>failed: ${escapeHtml(String(entry.error))}</em>` : "";
        item.innerHTML = `${badge}to ${escapeHtml(String(entry.to))}: ${formatWhatsApp(contentText(entry.content))}${failed}`;
      } catch (_) {
        // One entry the formatter cannot show must not stop the panel: show it as plain text.
        item.textContent = JSON.stringify(entry);
      }
      $("outbox").prepend(item);
    }
    outboxSeq = data.last_seq;
  } catch (_) {
    // The server restarted or is gone; try again later.
  }
}

async function start() {
  const info = await (await fetch("/api/info")).json();
  const dryRun = info.dry_run ? ' <span class="badge" id="dry-run">DRY RUN: replies to WhatsApp users are not sent</span>' : "";
  $("corpus").innerHTML = `corpus ${escapeHtml(info.corpus_version)} · ${info.documents} documents · ${info.passages} passages · ${escapeHtml(info.store)}${dryRun}`;
  const select = $("language");
  const automatic = new Option("Detect automatically", "");
  select.add(automatic);
  for (const language of info.languages) {
    const label = `${language.name} (${language.code})` + (language.in_corpus ? "" : " · no documents");
    select.add(new Option(label, language.code));
  }
  select.addEventListener("change", async () => {
    if (!select.value) return;
    try {
      await post("/api/language", { citizen, language: select.value });
      addBubble("notice", escapeHtml(`The citizen's language is now ${select.selectedOptions[0].text}`));
    } catch (problem) {
      addBubble("notice", escapeHtml(problem.message));
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    const forwarded = $("forwarded").checked;
    $("question").value = "";
    $("forwarded").checked = false;
    send({ text: question, forwarded }, question, forwarded);
  });
  $("menu").addEventListener("click", () => send({ text: "?" }, "?", false));
  $("alerts").addEventListener("click", openAlerts);
  $("new-chat").addEventListener("click", () => {
    citizen = newCitizen();
    $("chat").replaceChildren();
    answers.clear();
    select.value = "";
    addBubble("notice", escapeHtml("New conversation as a new citizen"));
  });
  $("list-close").addEventListener("click", () => ($("list-sheet").hidden = true));
  await pollOutbox();
  setInterval(pollOutbox, 2000);
  document.body.dataset.ready = "true";
}

start();
