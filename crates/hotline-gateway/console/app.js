// The Hotline agent console. Plain JavaScript, no dependency, no build step.
//
// Everything it shows comes from the gateway's REST API, called with the
// agent's bearer token (kept in sessionStorage: it ends with the tab).
// Customers' messages are untrusted text: every value reaches the page
// through textContent, never parsed as markup (a test of the gateway checks
// that no HTML-parsing sink appears here), and the page's
// Content-Security-Policy refuses inline scripts besides.
"use strict";

(() => {
  const POLL_MS = 2000;
  const TOKEN_KEY = "hotline.console.token";
  const PAGE = 500; // the API's largest page
  const MAX_PAGES = 20; // at most 10,000 messages of one conversation at once

  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY);
  let selected = null; // the open conversation's customer (hex)
  let facts = null; // its last GET /v1/conversations/{customer}
  let factsAt = 0; // performance.now() when that answer came
  let messages = new Map(); // id -> message of the open conversation
  let reply = null; // {key, text} of a reply not yet answered by the gateway

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body, headers) {
    const h = Object.assign({ Authorization: "Bearer " + token }, headers || {});
    if (body !== undefined) h["Content-Type"] = "application/json";
    let r;
    try {
      r = await fetch(path, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "network", "the gateway cannot be reached (" + e.message + ")");
    }
    const text = await r.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!r.ok) {
      const code = (data && data.code) || "http_" + r.status;
      const message = (data && data.message) || text || r.statusText;
      throw new ApiError(r.status, code, message);
    }
    return data;
  }

  function describe(e) {
    return e instanceof ApiError ? e.message + " (" + e.code + ")" : String(e);
  }

  // An idempotency key: a reply retried after a network failure is sent once.
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "console-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clock(secs) {
    const s = Math.max(0, Math.floor(secs));
    const pad = (n) => String(n).padStart(2, "0");
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function when(unix) {
    return unix == null ? "" : new Date(unix * 1000).toLocaleString();
  }

  // --- signing in and out -------------------------------------------------

  async function signIn(candidate) {
    token = candidate;
    try {
      await api("GET", "/v1/conversations?limit=1");
    } catch (e) {
      token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      if (e.status === 401) return "The gateway does not know this token.";
      if (e.status === 403) return "This token may not read conversations: an agent token is needed.";
      return describe(e);
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    $("sign-in").hidden = true;
    $("console").hidden = false;
    $("sign-out").hidden = false;
    $("who").textContent = "signed in";
    await refresh();
    setInterval(refresh, POLL_MS);
    setInterval(tick, 1000);
    return null;
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  }

  // --- the list of conversations ------------------------------------------

  function listClock(c) {
    if (c.blocked) return ["blocked", "closed"];
    if (c.window_open) return [clock(c.window_remaining_secs) + " left", "open"];
    return ["window closed", "closed"];
  }

  function renderList(list) {
    const ul = $("conversations");
    ul.replaceChildren();
    $("no-conversations").hidden = list.length > 0;
    for (const c of list) {
      const li = el("li");
      li.dataset.customer = c.customer;
      if (c.customer === selected) li.classList.add("selected");
      const [label, cls] = listClock(c);
      li.append(el("span", "clock " + cls, label));
      li.append(el("code", "", c.customer.slice(0, 16) + "…"));
      li.append(el("div", "muted", "last message " + when(c.last_message_at)));
      li.addEventListener("click", () => open(c.customer));
      ul.append(li);
    }
  }

  // --- one conversation ----------------------------------------------------

  async function open(customer) {
    if (customer === selected) return;
    selected = customer;
    facts = null;
    messages = new Map();
    reply = null;
    $("reply").value = "";
    $("reply-error").textContent = "";
    $("block-result").textContent = "";
    $("conversation").hidden = false;
    for (const li of $("conversations").children) {
      li.classList.toggle("selected", li.dataset.customer === customer);
    }
    await refreshConversation();
  }

  // Fetches the messages the console does not have in a final state:
  // from the first one still queued (whose state may change), page by page.
  async function loadMessages(customer) {
    let after = 0;
    for (const m of messages.values()) {
      if (m.state !== "queued") after = Math.max(after, m.id);
      else break;
    }
    for (let page = 0; page < MAX_PAGES; page++) {
      const data = await api("GET", "/v1/conversations/" + customer + "/messages?after=" + after + "&limit=" + PAGE);
      if (customer !== selected) return;
      for (const m of data.messages) {
        messages.set(m.id, m);
        after = m.id;
      }
      if (data.messages.length < PAGE) break;
    }
    messages = new Map([...messages.entries()].sort((a, b) => a[0] - b[0]));
  }

  async function refreshConversation() {
    const customer = selected;
    if (!customer) return;
    const answer = await api("GET", "/v1/conversations/" + customer);
    await loadMessages(customer);
    if (customer !== selected) return;
    facts = answer;
    factsAt = performance.now();
    renderFacts();
    renderMessages();
  }

  // The window's seconds left now: counted down from the gateway's answer,
  // so that the browser's own clock does not matter.
  function remaining() {
    if (!facts || !facts.window_open || facts.window_remaining_secs == null) return 0;
    return facts.window_remaining_secs - (performance.now() - factsAt) / 1000;
  }

  function renderFacts() {
    $("customer").textContent = facts.customer;
    const c = facts.consent;
    $("consent").textContent =
      c == null
        ? "unknown (the relay did not answer)"
        : "chat " + (c.chat ? "yes" : "no") +
          ", notifications " + (c.notifications ? "yes" : "no") +
          (c.since ? " (since " + when(c.since) + ")" : " (never given)");
    $("blocked").textContent = facts.blocked ? "yes" : "no";
    tick();
  }

  function tick() {
    if (!facts) return;
    const left = remaining();
    const open = left > 0 && !facts.blocked;
    const w = $("window");
    w.className = open ? "open" : "closed";
    w.textContent = open
      ? "open, " + clock(left) + " left (closes " + when(facts.window_closes_at) + ")"
      : facts.blocked
        ? "closed: the customer blocked this business"
        : "closed: only a notification (an approved template) can reach this customer";
    $("send").disabled = !open;
    $("reply").disabled = !open;
    $("reply-note").textContent = open
      ? ""
      : "Chat answers are allowed within 24 hours of the customer's last message.";
  }

  function renderMessages() {
    const ol = $("messages");
    const atEnd = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
    ol.replaceChildren();
    for (const m of messages.values()) {
      const li = el("li", m.direction === "in" ? "in" : "out");
      li.dataset.id = m.id;
      li.dataset.state = m.state;
      li.append(el("span", "text", m.text));
      let meta = when(m.at) + " · " + m.class;
      if (m.direction === "out") meta += " · " + m.state + (m.reason ? " (" + m.reason + ")" : "");
      li.append(el("span", "meta", meta));
      ol.append(li);
    }
    if (atEnd) ol.scrollTop = ol.scrollHeight;
  }

  // --- answering and blocking ---------------------------------------------

  async function send(event) {
    event.preventDefault();
    const text = $("reply").value;
    if (!selected || text.trim() === "") return;
    // The same text retried keeps its key: the gateway answers a retry with
    // the first answer and never sends twice.
    if (!reply || reply.text !== text) reply = { key: newKey(), text };
    $("send").disabled = true;
    $("reply-error").textContent = "";
    try {
      await api(
        "POST",
        "/v1/messages",
        { customer: selected, class: "chat", text },
        { "Idempotency-Key": reply.key },
      );
      reply = null;
      $("reply").value = "";
      await refreshConversation();
    } catch (e) {
      $("reply-error").textContent = "Not sent: " + describe(e);
      if (e.status !== 0 && e.code !== "timeout" && e.code !== "overloaded") reply = null;
    } finally {
      tick();
    }
  }

  async function setBlock(blocked) {
    if (!selected) return;
    const result = $("block-result");
    try {
      await api(blocked ? "POST" : "DELETE", "/v1/customers/" + selected + "/block");
      result.textContent = blocked
        ? "Blocked: the relay refuses this customer's messages."
        : "Block lifted.";
    } catch (e) {
      result.textContent = "Failed: " + describe(e);
    }
  }

  async function refresh() {
    try {
      const data = await api("GET", "/v1/conversations?limit=" + PAGE);
      renderList(data.conversations);
      await refreshConversation();
      $("error").textContent = "";
    } catch (e) {
      if (e.status === 401) return signOut();
      $("error").textContent = describe(e);
    }
  }

  function start() {
    $("sign-in-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("sign-in-error").textContent = (await signIn($("token").value.trim())) || "";
    });
    $("sign-out").addEventListener("click", signOut);
    $("reply-form").addEventListener("submit", send);
    $("block").addEventListener("click", () => setBlock(true));
    $("unblock").addEventListener("click", () => setBlock(false));
    if (token) {
      signIn(token).then((error) => {
        if (error) $("sign-in-error").textContent = error;
      });
    }
  }

  start();
})();
