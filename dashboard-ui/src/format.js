// Money arrives in picounits (10^-12 of the catalog's currency) and is shown as such, never rounded
// to cents: one turn of a cheap model costs a fraction of a cent.

export const PICOS = 1e12;

export function money(picos, currency = "USD") {
  if (picos == null) return "–";
  const value = picos / PICOS;
  const digits = Math.abs(value) >= 1 ? 2 : Math.abs(value) >= 0.01 ? 4 : 6;
  const sign = currency === "USD" ? "$" : "";
  return `${value < 0 ? "-" : ""}${sign}${Math.abs(value).toFixed(digits)}${sign ? "" : " " + currency}`;
}

export function percent(ratio) {
  return ratio == null ? "–" : `${(ratio * 100).toFixed(1)}%`;
}

export function count(n) {
  return n == null ? "–" : Number(n).toLocaleString("en-US");
}

export function time(ms) {
  if (!ms) return "–";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function clock(ms) {
  return ms ? new Date(ms).toISOString().slice(11, 19) : "–";
}

export function duration(ms) {
  if (ms == null) return "–";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
