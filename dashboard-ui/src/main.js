// The dashboard: polls the read API once a second and shows what the router decided, spent and saved.
// Decisions arrive incrementally (`after` the last revision seen), so polling stays cheap with 10,000.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, initialToken, rememberToken } from "./api.js";
import { Decisions } from "./decisions.js";
import { Endpoints, Quotas } from "./health.js";
import { html } from "./html.js";
import { Savings, Totals } from "./savings.js";
import { ConversationPicker, Timeline } from "./timeline.js";
import { time } from "./format.js";
import "./style.css";

const POLL_MS = 1000;
const MAX_DECISIONS = 10000;
const PAGE = 2500;
const SLOW_MS = 5000;

function TokenForm({ error, onToken }) {
  const [value, setValue] = useState("");
  return html`<form class="token" onSubmit=${(e) => (e.preventDefault(), onToken(value))}>
    <p>${error.status === 403
      ? "This token may not read the dashboard: it needs the 'ui' scope."
      : "This router needs a bearer token with the 'ui' scope."}</p>
    <input id="token" type="password" placeholder="token" value=${value} onInput=${(e) => setValue(e.target.value)} />
    <button type="submit">Open</button>
  </form>`;
}

function App() {
  const [token, setToken] = useState(initialToken());
  const [authError, setAuthError] = useState(null);
  const [error, setError] = useState("");
  const [overview, setOverview] = useState(null);
  const [decisions, setDecisions] = useState([]);
  const [quotas, setQuotas] = useState(null);
  const [endpoints, setEndpoints] = useState(null);
  const [conversations, setConversations] = useState([]);
  const [selected, setSelected] = useState("");
  const [timeline, setTimeline] = useState(null);
  const [filters, setFilters] = useState({ role: "", endpoint: "", conversation: "" });
  const cursor = useRef({ view: "", rev: 0, byId: new Map(), slowAt: 0 });

  // The overview every second, the decisions when its revision moved, and the quotas, endpoints and
  // conversations every few seconds: what an open page costs the router stays small under traffic.
  async function poll() {
    const o = await get("overview", token);
    const seen = cursor.current;
    if (Date.now() - seen.slowAt > SLOW_MS) {
      const [q, e, c] = await Promise.all([
        get("quotas", token),
        get("endpoints", token),
        get("conversations", token),
      ]);
      setQuotas(q);
      setEndpoints(e);
      setConversations(c.conversations);
      // The first look shows the most recently active conversation's timeline.
      if (!seen.picked && c.conversations.length) {
        seen.picked = true;
        setSelected((current) => current || c.conversations[0].conversation);
      }
      seen.slowAt = Date.now();
    }
    if (seen.view !== o.view_id) {
      seen.view = o.view_id;
      seen.rev = 0;
      seen.byId = new Map();
    }
    if (o.rev > seen.rev) {
      // In pages, so that the first look at 10,000 decisions never waits for one huge answer.
      let more = true;
      while (more) {
        const page = await get("decisions", token, { after: seen.rev, limit: PAGE });
        for (const d of page.decisions) seen.byId.set(d.id, d);
        seen.rev = Math.max(seen.rev, page.next_after);
        more = page.more;
      }
      let all = [...seen.byId.values()].sort((a, b) => b.at_ms - a.at_ms || (a.id < b.id ? 1 : -1));
      if (all.length > MAX_DECISIONS) {
        all = all.slice(0, MAX_DECISIONS);
        seen.byId = new Map(all.map((d) => [d.id, d]));
      }
      setDecisions(all);
    }
    setOverview(o);
  }

  useEffect(() => {
    let stopped = false;
    let timer = 0;
    async function loop() {
      try {
        await poll();
        setError("");
        setAuthError(null);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          setAuthError(e);
          return;
        }
        setError(e.message || String(e));
      }
      if (!stopped) timer = setTimeout(loop, POLL_MS);
    }
    loop();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [token]);

  const rev = overview ? overview.rev : 0;
  useEffect(() => {
    if (!selected) return setTimeline(null);
    get(`conversations/${encodeURIComponent(selected)}`, token)
      .then(setTimeline)
      .catch(() => setTimeline(null));
  }, [selected, rev, token]);

  if (authError) {
    return html`<${TokenForm} error=${authError} onToken=${(t) => (rememberToken(t), setToken(t))} />`;
  }
  if (!overview) return html`<p class="muted">${error || "Loading…"}</p>`;
  const open = (conversation) => {
    setSelected(conversation);
    document.getElementById("timeline-section").scrollIntoView({ behavior: "smooth" });
  };
  return html`<div>
    <header>
      <h1>rolemodel router</h1>
      <span>catalog <b>${overview.catalog.name}</b> · state ${overview.state_store} · ${overview.decisions_held} of
        the last ${overview.max_decisions} decisions · ${time(overview.now_ms)}</span>
      ${error ? html`<span class="bad">${error}</span>` : null}
      ${overview.journal_failing
        ? html`<span class="bad" data-testid="journal-failing">the ${overview.journal} journal is unreachable: new
            decisions are not shown until it returns</span>`
        : null}
      <nav><a href="#savings">savings</a><a href="#decisions">decisions</a><a href="#timeline-section">conversation</a>
        <a href="#quotas">quotas</a><a href="#endpoints">endpoints</a></nav>
    </header>
    <${Totals} overview=${overview} />
    <div id="decisions"><${Decisions} decisions=${decisions} overview=${overview} filters=${filters}
      setFilters=${setFilters} onOpen=${open} /></div>
    <section id="timeline-section">
      <h2>Conversation timeline</h2>
      <${ConversationPicker} conversations=${conversations} selected=${selected} onOpen=${setSelected} />
      <${Timeline} timeline=${timeline} currency=${overview.currency} />
    </section>
    <div>
      <div id="quotas">${quotas ? html`<${Quotas} quotas=${quotas.quotas} now=${quotas.now_ms} currency=${overview.currency} />` : null}</div>
      <div id="endpoints">${endpoints ? html`<${Endpoints} endpoints=${endpoints.endpoints} now=${endpoints.now_ms} />` : null}</div>
    </div>
    <div id="savings"><${Savings} overview=${overview} /></div>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
