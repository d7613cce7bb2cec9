// Quotas and windows with their reset and forecast; endpoints with health, time to first token,
// failures and cooldowns.
import { html } from "./html.js";
import { count, duration, money, percent, time } from "./format.js";

function amount(measure, value, currency) {
  return measure === "cost_picos" ? money(value, currency) : count(value);
}

export function Quotas({ quotas, now, currency }) {
  return html`<section>
    <h2>Quotas and windows</h2>
    <table class="grid" data-testid="quotas">
      <thead><tr><th>quota</th><th>endpoint</th><th>window</th><th>measure</th><th>used</th><th>limit</th><th></th>
        <th>resets in</th><th>forecast</th></tr></thead>
      <tbody>
        ${quotas.flatMap((q) => {
          const rows = q.forecast.length ? q.forecast : [null];
          return rows.map(
            (f, i) => html`<tr data-quota=${q.quota_id}>
              <td>${i === 0 ? q.quota_id : ""}</td><td>${i === 0 ? q.endpoint : ""}</td>
              <td>${i === 0 ? `${q.window_kind ? q.window_kind.toLowerCase() + " " : ""}${duration(q.window_seconds * 1000)}` : ""}</td>
              <td>${f ? f.measure.replace("_picos", "") : "–"}</td>
              <td class="num" data-used=${f ? f.used : 0}>${f ? amount(f.measure, f.used, currency) : "unused"}</td>
              <td class="num">${f ? amount(f.measure, f.limit, currency) : ""}</td>
              <td><div class="bar"><div style=${`width:${Math.min(100, (f ? f.used_fraction : 0) * 100)}%`}
                class=${f && !f.lasts ? "warn" : ""}></div></div></td>
              <td>${q.resets_at_ms ? duration(q.resets_at_ms - now) : "–"}</td>
              <td class=${f && !f.lasts ? "bad" : ""}>${
                !f ? (q.window_reset_since ? "window reset since last use" : "no use seen")
                : f.lasts ? `lasts (${percent(f.projected_at_reset / f.limit)} at reset)`
                : `runs out ${f.runs_out_at_ms ? "at " + time(f.runs_out_at_ms) : ""}`
              }</td>
            </tr>`,
          );
        })}
      </tbody>
    </table>
  </section>`;
}

export function Endpoints({ endpoints, now }) {
  return html`<section>
    <h2>Endpoints</h2>
    <table class="grid" data-testid="endpoints">
      <thead><tr><th>endpoint</th><th>where</th><th>health</th><th>chosen</th><th>served</th><th>failures</th>
        <th>failure rate</th><th>TTFT observed</th><th>TTFT declared</th><th>cooldown</th></tr></thead>
      <tbody>
        ${endpoints.map(
          (e) => html`<tr data-endpoint=${e.id}>
            <td title=${e.display_name}>${e.id}</td><td>${e.locality}</td>
            <td class=${e.healthy ? "ok" : "bad"}>${e.healthy ? "healthy" : "cooling down"}</td>
            <td class="num" data-chosen=${e.chosen}>${count(e.chosen)}</td><td class="num">${count(e.served)}</td>
            <td>${Object.entries(e.failures).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(", ") || "–"}</td>
            <td class="num">${e.observed_outcomes ? percent(e.observed_failure_rate) : "–"}</td>
            <td class="num">${e.observed_ttft_ms ? `${e.observed_ttft_ms.toFixed(0)} ms` : "–"}</td>
            <td class="num">${e.declared_ttft_ms ? `${e.declared_ttft_ms} ms` : "–"}</td>
            <td>${e.cooling_down ? `${duration(e.cooldown_until_ms - now)} left` : "–"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
