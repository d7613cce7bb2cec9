// Savings: what the router spent against always the premium endpoint and always the cheapest capable
// one, in total and per hour and per day, with the cache hit ratio and the premium share.
import { Chart } from "./chart.js";
import { html } from "./html.js";
import { count, money, percent, PICOS } from "./format.js";

function Card({ label, value, picos, testid, note }) {
  return html`<div class="card">
    <div class="label">${label}</div>
    <div class="value" data-testid=${testid} data-picos=${picos}>${value}</div>
    ${note ? html`<div class="note">${note}</div>` : null}
  </div>`;
}

export function Totals({ overview }) {
  const t = overview.totals;
  const c = overview.currency;
  const savedShare = t.premium_picos ? t.saved_vs_premium_picos / t.premium_picos : null;
  return html`<section class="cards">
    <${Card} label="Decisions" value=${count(t.decisions)} testid="total-decisions" />
    <${Card} label="Spent" value=${money(t.cost_picos, c)} picos=${t.cost_picos} testid="total-cost"
      note="reported cost, else the estimate" />
    <${Card} label="Always premium" value=${money(t.premium_picos, c)} picos=${t.premium_picos}
      testid="total-premium" />
    <${Card} label="Always cheapest" value=${money(t.cheapest_picos, c)} picos=${t.cheapest_picos}
      testid="total-cheapest" />
    <${Card} label="Saved vs premium" value=${money(t.saved_vs_premium_picos, c)} picos=${t.saved_vs_premium_picos}
      testid="total-saved" note=${percent(savedShare) + " of the premium cost"} />
    <${Card} label="Cache hits" value=${percent(t.cache_hit_ratio_reported)} testid="cache-hit-reported"
      note=${"predicted " + percent(t.cache_hit_ratio_predicted)} />
    <${Card} label="Premium share" value=${percent(t.premium_share)} testid="premium-share" />
  </section>`;
}

export function Savings({ overview }) {
  const hours = overview.hours;
  const c = overview.currency;
  const data = [
    hours.map((h) => h.hour_start_ms / 1000),
    hours.map((h) => h.cost_picos / PICOS),
    hours.map((h) => h.premium_picos / PICOS),
    hours.map((h) => h.cheapest_picos / PICOS),
  ];
  const series = [
    { label: "router", stroke: "#2563eb" },
    { label: "always premium", stroke: "#dc2626", dash: [6, 4] },
    { label: "always cheapest", stroke: "#16a34a", dash: [2, 4] },
  ];
  return html`<section>
    <h2>Savings</h2>
    <h3>Cost per hour</h3>
    <${Chart} series=${series} data=${data} xTime=${true} yFormat=${(v) => money(v * PICOS, c)} testid="hourly-chart" />
    <h3>Per day</h3>
    <table class="grid" data-testid="daily-table">
      <thead><tr><th>day</th><th>decisions</th><th>spent</th><th>always premium</th><th>always cheapest</th>
        <th>saved</th><th>cache hits</th><th>premium share</th></tr></thead>
      <tbody>
        ${overview.days.map(
          (d) => html`<tr>
            <td>${new Date(d.day_start_ms).toISOString().slice(0, 10)}</td>
            <td class="num">${count(d.decisions)}</td>
            <td class="num">${money(d.cost_picos, c)}</td>
            <td class="num">${money(d.premium_picos, c)}</td>
            <td class="num">${money(d.cheapest_picos, c)}</td>
            <td class="num">${money(d.saved_vs_premium_picos, c)}</td>
            <td class="num">${percent(d.cache_hit_ratio_reported)}</td>
            <td class="num">${percent(d.premium_share)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <h3>Premium share by role</h3>
    <table class="grid" data-testid="share-table">
      <thead><tr><th>role</th><th>decisions</th><th>premium share</th><th>target</th><th>controller's window</th></tr></thead>
      <tbody>
        ${overview.premium_share.map(
          (s) => html`<tr>
            <td>${s.role}</td><td class="num">${count(s.decisions)}</td><td class="num">${percent(s.premium_share)}</td>
            <td class="num">${percent(s.target_share)}</td><td class="num">${percent(s.controller_realized_share)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
