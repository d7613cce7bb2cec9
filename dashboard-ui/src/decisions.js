// Live decisions, newest first, filtered by role, endpoint and conversation. Only the rows in view
// are in the document (a fixed row height makes that a slice), so 10,000 decisions scroll and
// filter as fast as ten.
import { useMemo, useState } from "preact/hooks";
import { html } from "./html.js";
import { clock, count, money } from "./format.js";

const ROW = 30;
const VISIBLE = 18;

export function applyFilters(decisions, filters) {
  return decisions.filter(
    (d) =>
      (!filters.role || d.role === filters.role) &&
      (!filters.endpoint || d.endpoint === filters.endpoint) &&
      (!filters.conversation || d.conversation === filters.conversation),
  );
}

function Select({ id, label, value, options, onChange }) {
  return html`<label>${label}
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      <option value="">all</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>
  </label>`;
}

function Row({ d, currency, onOpen, top }) {
  const outcome = d.outcome;
  const cached = outcome ? `${count(d.cached_predicted)} / ${count(outcome.cache_read_tokens)}` : `${count(d.cached_predicted)} / –`;
  const reasons = d.reasons.map((r) => r.code).filter((c) => c !== "TOKENS_ESTIMATED" && c !== "WEIGHTS_REDISTRIBUTED");
  return html`<div class="row decision" style=${`top:${top}px`} data-decision-id=${d.id} data-role=${d.role}
      data-endpoint=${d.endpoint} onClick=${() => onOpen(d.conversation)}
      title=${d.reasons.map((r) => `${r.code}: ${r.detail}`).join("\n")}>
    <span class="c-time">${clock(d.at_ms)}</span>
    <span class="c-role">${d.role}</span>
    <span class="c-diff">${d.difficulty.toFixed(2)} <small>${d.difficulty_source.toLowerCase()}</small></span>
    <span class="c-endpoint">${d.endpoint}${outcome && outcome.served && outcome.served !== d.endpoint ? ` → ${outcome.served}` : ""}</span>
    <span class="c-num">${count(d.prompt_tokens)}</span>
    <span class="c-cached">${cached}</span>
    <span class="c-num">${money(d.estimated_picos, currency)}</span>
    <span class="c-num" data-picos=${outcome && outcome.has_usage ? outcome.reported_picos : ""}>${outcome && outcome.has_usage ? money(outcome.reported_picos, currency) : "–"}</span>
    <span class="c-outcome ${outcome && outcome.class !== "SUCCESS" ? "bad" : ""}">${outcome ? outcome.class.toLowerCase() : "pending"}</span>
    <span class="c-reasons">${d.side_request ? "side · " : ""}${reasons.join(", ").toLowerCase()}</span>
  </div>`;
}

export function Decisions({ decisions, overview, filters, setFilters, onOpen }) {
  const [scroll, setScroll] = useState(0);
  const shown = useMemo(() => applyFilters(decisions, filters), [decisions, filters]);
  const conversations = useMemo(() => [...new Set(decisions.map((d) => d.conversation))].sort(), [decisions]);
  const first = Math.max(0, Math.floor(scroll / ROW) - 4);
  const slice = shown.slice(first, first + VISIBLE + 8);
  const set = (key) => (value) => setFilters({ ...filters, [key]: value });
  return html`<section>
    <h2>Live decisions</h2>
    <div class="filters">
      <${Select} id="filter-role" label="role" value=${filters.role} options=${overview.roles} onChange=${set("role")} />
      <${Select} id="filter-endpoint" label="endpoint" value=${filters.endpoint} options=${overview.endpoints}
        onChange=${set("endpoint")} />
      <${Select} id="filter-conversation" label="conversation" value=${filters.conversation} options=${conversations}
        onChange=${set("conversation")} />
      <span class="shown" data-testid="decisions-shown" data-count=${shown.length}>
        ${count(shown.length)} of ${count(decisions.length)} decisions</span>
    </div>
    <div class="row head">
      <span class="c-time">time</span><span class="c-role">role</span><span class="c-diff">difficulty</span>
      <span class="c-endpoint">endpoint</span><span class="c-num">prompt</span>
      <span class="c-cached" title="prompt tokens the router predicted cached / the provider reported">cached p./r.</span><span class="c-num">estimated</span><span class="c-num">reported</span>
      <span class="c-outcome">outcome</span><span class="c-reasons">reasons</span>
    </div>
    <div class="scroller" data-testid="decisions" onScroll=${(e) => setScroll(e.currentTarget.scrollTop)}
        style=${`height:${ROW * Math.max(3, Math.min(VISIBLE, shown.length))}px`}>
      <div style=${`height:${shown.length * ROW}px;position:relative`}>
        ${slice.map((d, i) => html`<${Row} key=${d.id} d=${d} currency=${overview.currency} onOpen=${onOpen}
          top=${(first + i) * ROW} />`)}
      </div>
    </div>
  </section>`;
}
