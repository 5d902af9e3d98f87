// The wallboard: draws the board the server sends (Server-Sent Events) and counts waiting times up.
// Screen readers hear changes of waiting callers and emergency lines (the live region), not every second.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const labels = { available: "frei", ringing: "klingelt", talking: "im Gespräch", paused: "in Pause", unavailable: "nicht erreichbar" };
  let board = JSON.parse($("initial").textContent || "{}");
  let spoken = null;

  const text = (tag, value, cls) => { const el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el; };
  const percent = (value) => (value === null || value === undefined ? "–" : value.toFixed(1).replace(".", ",") + " %");
  const since = (joined) => {
    if (joined === null || joined === undefined) return "–";
    const s = Math.max(0, Math.floor(Date.now() / 1000 - joined));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + " min";
  };
  const against = (value, target, what) => {
    const td = text("td", percent(value) + (target ? " (Ziel " + target + " %)" : ""), "num");
    if (value !== null && value !== undefined && target) {
      td.classList.add(value >= target ? "met" : "below");
      td.append(text("span", value >= target ? " erreicht" : " unter Ziel", "sr-only"));
    }
    td.title = what;
    return td;
  };

  function draw() {
    // Redis away: the error says so, the live parts are emptied (never an old count shown as now), today's figures stay.
    $("connection").textContent = board.error || "Live – zuletzt aktualisiert " + new Date().toLocaleTimeString("de-DE");
    $("connection").classList.toggle("error", Boolean(board.error));
    const queues = $("queues").tBodies[0];
    queues.replaceChildren(...(board.queues || []).map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.id;
      tr.append(text("th", q.name), text("td", String(q.waiting), "num waiting"), text("td", since(q.oldest), "num oldest"));
      for (const state of ["available", "talking", "ringing", "paused", "unavailable"]) tr.append(text("td", String(q.agents[state] || 0), "num"));
      tr.firstChild.scope = "row";
      return tr;
    }));
    const tenants = $("tenants").tBodies[0];
    tenants.replaceChildren(...(board.tenants || []).map((t) => {
      const tr = document.createElement("tr");
      const th = text("th", t.name); th.scope = "row";
      tr.append(th, text("td", String(t.calls), "num"), text("td", t.answered + " von " + t.offered, "num"),
        against(t.service_level, t.service_level_target, "angenommen in " + t.within + " s / angeboten"),
        against(t.reachability, t.reachability_target, "angenommen / angeboten in den Öffnungszeiten"));
      return tr;
    }));
    $("figures-error").textContent = board.figures_error ? "Zahlen von heute nicht aktuell: " + board.figures_error : "";
    $("emergencies").replaceChildren(...(board.emergencies || []).map((e) =>
      text("li", e.tenant_name + ": " + e.name + " – " + (e.on ? "EINGESCHALTET" : "aus"), e.on ? "on" : "")));
    if (!(board.emergencies || []).length) $("emergencies").append(text("li", board.error ? "Zustand nicht bekannt" : "keine eingerichtet"));
    $("agents").replaceChildren(...(board.agents || []).map((a) =>
      text("li", a.name + ": " + (labels[a.state] || a.state) + (a.reason ? " (" + a.reason + ")" : ""), "state-" + a.state)));
    if (!(board.agents || []).length) $("agents").append(text("li", board.error ? "nicht bekannt" : "niemand angemeldet"));
    announce();
  }

  function announce() {
    const waiting = (board.queues || []).filter((q) => q.waiting > 0).map((q) => q.name + ": " + q.waiting + " wartend");
    const on = (board.emergencies || []).filter((e) => e.on).map((e) => e.name + " eingeschaltet");
    const said = [...waiting, ...on].join(". ") || "Niemand wartet.";
    if (said !== spoken) { $("announce").textContent = said; spoken = said; }
  }

  function tick() {
    $("clock").textContent = new Date().toLocaleTimeString("de-DE");
    for (const row of $("queues").tBodies[0].rows) {
      const q = (board.queues || []).find((x) => x.id === row.dataset.queue);
      if (q) row.querySelector(".oldest").textContent = since(q.oldest);
    }
  }

  draw();
  setInterval(tick, 1000);
  const source = new EventSource("/wallboard/events");
  source.onmessage = (message) => { board = JSON.parse(message.data); window.lotseBoardSeen = Date.now(); draw(); };
  source.onerror = () => { $("connection").textContent = "Verbindung unterbrochen – verbinde neu …"; };
})();
