// The agent's own state, kept current from the wallboard's stream (a screen reader hears each change).
"use strict";
(function () {
  const state = document.getElementById("state-now");
  if (!state || !window.EventSource) return;
  const labels = { available: "frei", ringing: "klingelt", talking: "im Gespräch", paused: "in Pause", unavailable: "nicht erreichbar" };
  const me = state.dataset.interface;
  const source = new EventSource("/wallboard/events");
  source.onmessage = (message) => {
    const board = JSON.parse(message.data);
    if (!board.agents) return;
    const found = board.agents.find((a) => a.interface === me);
    const text = found ? (labels[found.state] || found.state) + (found.reason ? " (" + found.reason + ")" : "") : "abgemeldet";
    if (state.textContent !== text) state.textContent = text;
  };
})();
