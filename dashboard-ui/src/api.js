// The read API (/ui/api/v1): one GET per endpoint, with the bearer token when the router has tokens.
// The token comes from the address's fragment (#token=..., never sent to the server) or the form,
// and is kept for the browser tab only (sessionStorage).

const BASE = "/ui/api/v1";
const KEY = "rolemodel-dashboard-token";

export class ApiError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export function initialToken() {
  const match = window.location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(KEY) || "";
}

export function rememberToken(token) {
  sessionStorage.setItem(KEY, token);
}

export async function get(path, token, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const url = `${BASE}/${path}${query.size ? "?" + query : ""}`;
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = (await response.json()).error.message;
    } catch {
      // not the router's error shape; keep the status text
    }
    throw new ApiError(response.status, response.headers.get("x-rolemodel-error-reason") || "", message);
  }
  return response.json();
}
