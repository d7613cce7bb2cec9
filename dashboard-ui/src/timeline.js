// One conversation turn by turn: the endpoint that served, every endpoint's cache (warm, expiring,
// cold), escalations and side requests, and the running cost against the two baselines.
import { Chart } from "./chart.js";
import { html } from "./html.js";
import { clock, count, money, PICOS } from "./format.js";

export function ConversationPicker({ conversations, selected, onOpen }) {
  return html`<label>conversation
    <select id="timeline-conversation" value=${selected} onChange=${(e) => onOpen(e.target.value)}>
      <option value="">choose one</option>
      ${conversations.map(
        (c) => html`<option value=${c.conversation}>${c.conversation} (${c.decisions} turns)</option>`,
      )}
    </select>
  </label>`;
}

export function Timeline({ timeline, currency }) {
  if (!timeline) return html`<p class="muted">Choose a conversation, or click a decision.</p>`;
  const turns = timeline.turns;
  const data = [
    turns.map((_, i) => i + 1),
    turns.map((t) => t.cumulative_cost_picos / PICOS),
    turns.map((t) => t.cumulative_premium_picos / PICOS),
    turns.map((t) => t.cumulative_cheapest_picos / PICOS),
  ];
  const series = [
    { label: "router", stroke: "#2563eb" },
    { label: "always premium", stroke: "#dc2626", dash: [6, 4] },
    { label: "always cheapest", stroke: "#16a34a", dash: [2, 4] },
  ];
  const totals = timeline.totals;
  return html`<div data-testid="timeline" data-conversation=${timeline.conversation}>
    <p>
      <b>${timeline.conversation}</b>: ${count(totals.decisions)} decisions, spent${" "}
      <span data-testid="timeline-cost" data-picos=${totals.cost_picos}>${money(totals.cost_picos, currency)}</span>,
      always premium${" "}<span data-testid="timeline-premium" data-picos=${totals.premium_picos}>${money(totals.premium_picos, currency)}</span>,
      always cheapest${" "}<span data-picos=${totals.cheapest_picos}>${money(totals.cheapest_picos, currency)}</span>
    </p>
    <${Chart} series=${series} data=${data} yFormat=${(v) => money(v * PICOS, currency)} testid="timeline-chart" />
    <table class="grid timeline">
      <thead><tr><th>#</th><th>time</th><th>role</th><th>served by</th><th>prompt</th><th>cost</th><th>cumulative</th>
        <th>premium</th>${timeline.endpoints.map((e) => html`<th class="cache-head">${e}</th>`)}<th>notes</th></tr></thead>
      <tbody>
        ${turns.map(
          (t, i) => html`<tr data-turn=${i + 1}>
            <td class="num">${i + 1}</td><td>${clock(t.at_ms)}</td><td>${t.role}</td>
            <td>${t.outcome && t.outcome.served ? t.outcome.served : t.endpoint}</td>
            <td class="num">${count(t.prompt_tokens)}</td>
            <td class="num">${money(t.cost_picos, currency)}</td>
            <td class="num" data-picos=${t.cumulative_cost_picos}>${money(t.cumulative_cost_picos, currency)}</td>
            <td class="num">${money(t.cumulative_premium_picos, currency)}</td>
            ${timeline.endpoints.map(
              (e) => html`<td class="cache ${t.cache_states[e]}" title=${`${e}: ${t.cache_states[e]}`}>
                ${t.cache_states[e] === "cold" ? "" : t.cache_states[e]}</td>`,
            )}
            <td>${[
              t.escalated ? "escalated" : "",
              t.side_request ? "side request" : "",
              t.handoff === "SWITCH" ? "switched" : "",
              t.outcome && t.outcome.served && t.outcome.served !== t.endpoint ? `fell back from ${t.endpoint}` : "",
              t.outcome && t.outcome.class !== "SUCCESS" ? t.outcome.class.toLowerCase() : "",
            ]
              .filter(Boolean)
              .join(", ")}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
