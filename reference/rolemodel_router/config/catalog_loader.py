"""Load a catalog file and refuse it, with every problem and its path, when it is wrong.

A router that starts on a broken catalog makes wrong decisions quietly, which
is worse than not starting. So loading checks the JSON Schema (typos, bad
prices, bad enum names) and then the rules a schema cannot express (unknown
endpoint ids in ladders, duplicate ids, mixed currencies), and reports all of
them at once: ``roles[2].ladder[1].endpoint_ids[0]: unknown endpoint 'gpt-x'``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from google.protobuf import json_format

from rolemodel.money import amount_to_picos, price_to_picos_per_token
from rolemodel.v1 import catalog_pb2
from rolemodel_router.estimators.registry import available_estimators

FIVE_MINUTES = 300


class CatalogError(Exception):
    """The catalog cannot be used; ``problems`` lists every reason with its path."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in the catalog:\n{listing}")


@dataclass(frozen=True)
class LoadedCatalog:
    catalog: catalog_pb2.Catalog
    digest: str  # hex SHA-256 of the catalog's deterministic serialisation
    source: str


def default_catalog_path() -> Path:
    return Path(str(resources.files("rolemodel_router") / "data" / "example_catalog.yaml"))


def _schema() -> dict[str, Any]:
    text = (resources.files("rolemodel_router") / "data" / "catalog.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _role_namespace_rule() -> tuple[set[str], re.Pattern[str]]:
    data = yaml.safe_load((resources.files("rolemodel_router") / "data" / "roles.yaml").read_text())
    return {r["name"] for r in data["roles"]}, re.compile(data["namespace_rule"])


def format_path(parts: Iterable[str | int]) -> str:
    """jsonschema's path deque as ``roles[2].ladder[1]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _friendly(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, rephrased where it would show a regular expression or a long list."""
    if error.validator == "pattern" and "[0-9]{1,6}" in str(error.validator_value):
        field = str(error.absolute_path[-1]) if error.absolute_path else ""
        kind = "a price per million tokens" if field.endswith("_per_mtok") else "an amount"
        return f'{error.instance!r} is not {kind}: use a non-negative decimal with at most 6 decimals, like "1.25"'
    if error.validator == "enum" and isinstance(error.validator_value, list):
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return _unknown_fields(error.instance, sorted(properties))
    return error.message


def _unknown_fields(instance: dict[str, Any], known: list[str]) -> str:
    """Each misspelt field with the nearest real one, or the fields that exist there (the schema is in the wheel)."""
    problems = []
    for name in (key for key in instance if key not in known):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"the fields here are {', '.join(known)}"
        problems.append(f"unknown field {name!r}: {hint}")
    return "; ".join(problems)


def _schema_problems(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema())
    ordered = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{format_path(error.absolute_path)}: {_friendly(error)}" for error in ordered]


def _duplicates(label: str, items: Iterable[tuple[str, str]]) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for path, key in items:
        if key in seen:
            problems.append(f"{path}: duplicate {label} '{key}' (first at {seen[key]})")
        else:
            seen[key] = path
    return problems


#: A header name as HTTP/2 and gRPC metadata write it (RFC 9110 token, lower case).
CREDENTIAL_HEADER_NAME = re.compile(r"[a-z0-9][a-z0-9!#$%&'*+.^_`|~-]{0,63}")
#: Headers the router writes itself for every backend call, or that describe the connection, not the caller.
RESERVED_HEADER_NAMES = frozenset(
    {"accept", "anthropic-version", "connection", "content-length", "content-type", "host", "te", "transfer-encoding"}
)
RESERVED_HEADER_PREFIXES = ("rolemodel-", "x-rolemodel-", ":")


def _check_endpoints(catalog: catalog_pb2.Catalog) -> list[str]:
    problems = _duplicates("endpoint id", ((f"endpoints[{i}].id", e.id) for i, e in enumerate(catalog.endpoints)))
    currencies = {e.pricing.currency for e in catalog.endpoints}
    if len(currencies) > 1:
        problems.append(f"endpoints: every endpoint must use one currency, found {sorted(currencies)}")
    for i, endpoint in enumerate(catalog.endpoints):
        pricing = endpoint.pricing
        for name in (
            "input_per_mtok",
            "output_per_mtok",
            "cache_read_per_mtok",
            "cache_write_5m_per_mtok",
            "cache_write_1h_per_mtok",
        ):
            text = getattr(pricing, name)
            if text:
                try:
                    price_to_picos_per_token(text)
                except ValueError as exc:
                    problems.append(f"endpoints[{i}].pricing.{name}: {exc}")
        caching = endpoint.caching
        if caching.mode == catalog_pb2.CACHE_MODE_EXPLICIT:
            field = "cache_write_1h_per_mtok" if caching.ttl_seconds > FIVE_MINUTES else "cache_write_5m_per_mtok"
            if not getattr(pricing, field):
                problems.append(
                    f"endpoints[{i}].pricing.{field}: "
                    f"explicit caching with a {caching.ttl_seconds}s TTL needs this price"
                )
        if (
            caching.mode in (catalog_pb2.CACHE_MODE_AUTOMATIC, catalog_pb2.CACHE_MODE_EXPLICIT)
            and caching.ttl_seconds == 0
        ):
            problems.append(f"endpoints[{i}].caching.ttl_seconds: a caching endpoint needs a TTL above 0")
        problems += _check_client_credential(f"endpoints[{i}].connection", endpoint.connection)
    return problems


def _check_client_credential(path: str, connection: catalog_pb2.EndpointConnection) -> list[str]:
    """Spec 12.4: a subscription endpoint names plain request headers, and no key of the router's."""
    names = list(connection.client_credential_headers)
    if not names:
        return []
    problems = _duplicates(
        "client credential header", ((f"{path}.client_credential_headers[{k}]", n) for k, n in enumerate(names))
    )
    for k, name in enumerate(names):
        where = f"{path}.client_credential_headers[{k}]"
        if not CREDENTIAL_HEADER_NAME.fullmatch(name):
            problems.append(f"{where}: '{name}' is not a lower-case header name")
        elif name in RESERVED_HEADER_NAMES or name.startswith(RESERVED_HEADER_PREFIXES):
            problems.append(f"{where}: '{name}' is set by the router itself and cannot carry a client's credential")
    if connection.api_key_env:
        problems.append(
            f"{path}.api_key_env: an endpoint called with the client's own credential takes no key of the router's"
        )
    return problems


def _check_roles(catalog: catalog_pb2.Catalog, endpoint_ids: set[str]) -> list[str]:
    problems = _duplicates("role name", ((f"roles[{i}].name", r.name) for i, r in enumerate(catalog.roles)))
    well_known, custom = _role_namespace_rule()
    for i, role in enumerate(catalog.roles):
        if role.name not in well_known and not custom.match(role.name):
            problems.append(
                f"roles[{i}].name: '{role.name}' is neither a well-known role nor of the form x-<org>.<name>"
            )
        if not role.ladder:
            problems.append(f"roles[{i}].ladder: a role needs at least one tier")
        placed: dict[str, str] = {}
        floor = 0.0
        for j, tier in enumerate(role.ladder):
            if not tier.endpoint_ids:
                problems.append(f"roles[{i}].ladder[{j}].endpoint_ids: a tier needs at least one endpoint")
            for k, endpoint_id in enumerate(tier.endpoint_ids):
                path = f"roles[{i}].ladder[{j}].endpoint_ids[{k}]"
                if endpoint_id not in endpoint_ids:
                    problems.append(f"{path}: unknown endpoint '{endpoint_id}'")
                elif endpoint_id in placed:
                    problems.append(
                        f"{path}: endpoint '{endpoint_id}' is already on this ladder at {placed[endpoint_id]}"
                    )
                else:
                    placed[endpoint_id] = path
            if j > 0 and tier.HasField("min_difficulty"):
                if tier.min_difficulty < floor:
                    problems.append(
                        f"roles[{i}].ladder[{j}].min_difficulty: "
                        f"{tier.min_difficulty} is below {floor} set on a lower tier"
                    )
                floor = max(floor, tier.min_difficulty)
        for path, text in (
            (f"roles[{i}].affinity.min_saving", role.affinity.min_saving),
            (f"roles[{i}].turn_budget.max_cost", role.turn_budget.max_cost),
        ):
            problems += _amount_problem(path, text)
    return problems


def _check_handoff(catalog: catalog_pb2.Catalog) -> list[str]:
    """A summary compaction needs a summarize role to make the summary."""
    if any(r.name == "summarize" for r in catalog.roles):
        return []
    return [
        f"roles[{i}].handoff.compaction: COMPACTION_STRATEGY_SUMMARY needs a role named 'summarize' to make the summary"
        for i, role in enumerate(catalog.roles)
        if role.handoff.compaction == catalog_pb2.COMPACTION_STRATEGY_SUMMARY
    ]


def _amount_problem(path: str, text: str) -> list[str]:
    if not text:
        return []
    try:
        amount_to_picos(text)
    except ValueError as exc:
        return [f"{path}: {exc}"]
    return []


def _check_reported_quota(path: str, quota: catalog_pb2.Quota) -> list[str]:
    """Spec 9.8: a reported window names which one, a prior use per request, and counts nothing itself."""
    problems = []
    if quota.usage_window == catalog_pb2.USAGE_WINDOW_UNSPECIFIED:
        problems.append(f"{path}.usage_window: a reported quota names its window (USAGE_WINDOW_SHORT or _LONG)")
    if not 0 < quota.prior_share_per_request <= 1:
        problems.append(f"{path}.prior_share_per_request: a reported quota needs a prior in (0, 1]")
    if quota.HasField("target_share") and not 0 < quota.target_share < 1:
        problems.append(f"{path}.target_share: must be in (0, 1)")
    if quota.max_requests or quota.max_tokens or quota.max_cost:
        problems.append(f"{path}: a reported quota counts nothing itself; the provider's reports are its state")
    return problems


def _check_quotas(policies: catalog_pb2.Policies, endpoint_ids: set[str]) -> list[str]:
    problems: list[str] = []
    for i, quota in enumerate(policies.quotas):
        path = f"policies.quotas[{i}]"
        if quota.endpoint_id not in endpoint_ids:
            problems.append(f"{path}.endpoint_id: unknown endpoint '{quota.endpoint_id}'")
        if quota.window_seconds < 1:
            problems.append(f"{path}.window_seconds: a quota window lasts at least 1 second")
        if quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_REPORTED:
            problems += _check_reported_quota(path, quota)
        elif not (quota.max_requests or quota.max_tokens or quota.max_cost):
            problems.append(f"{path}: a quota needs at least one of max_requests, max_tokens, max_cost")
        problems += _amount_problem(f"{path}.max_cost", quota.max_cost)
    # An endpoint has at most one reported quota per window: the reports of a window go to one state.
    return problems + _duplicates(
        "reported window",
        (
            (f"policies.quotas[{i}].usage_window", f"{q.endpoint_id}/{catalog_pb2.UsageWindow.Name(q.usage_window)}")
            for i, q in enumerate(policies.quotas)
            if q.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_REPORTED
        ),
    )


def _check_policies(catalog: catalog_pb2.Catalog, endpoint_ids: set[str], role_names: set[str]) -> list[str]:
    policies = catalog.policies
    problems = _duplicates("quota id", ((f"policies.quotas[{i}].id", q.id) for i, q in enumerate(policies.quotas)))
    problems += _duplicates(
        "deny rule id", ((f"policies.deny_rules[{i}].id", d.id) for i, d in enumerate(policies.deny_rules))
    )
    quota_ids = {q.id for q in policies.quotas}
    problems += _check_quotas(policies, endpoint_ids)
    targets = _duplicates(
        "share target role",
        ((f"policies.premium_share_targets[{i}].role", t.role) for i, t in enumerate(policies.premium_share_targets)),
    )
    problems += targets
    for i, target in enumerate(policies.premium_share_targets):
        path = f"policies.premium_share_targets[{i}]"
        if target.role not in role_names:
            problems.append(f"{path}.role: unknown role '{target.role}'")
        if target.pace_quota_id and target.pace_quota_id not in quota_ids:
            problems.append(f"{path}.pace_quota_id: unknown quota '{target.pace_quota_id}'")
    for i, rule in enumerate(policies.deny_rules):
        for k, endpoint_id in enumerate(rule.endpoint_ids):
            if endpoint_id not in endpoint_ids:
                problems.append(f"policies.deny_rules[{i}].endpoint_ids[{k}]: unknown endpoint '{endpoint_id}'")
        for k, role in enumerate(rule.roles):
            if role not in role_names:
                problems.append(f"policies.deny_rules[{i}].roles[{k}]: unknown role '{role}'")
    problems += _amount_problem("policies.default_affinity.min_saving", policies.default_affinity.min_saving)
    problems += _amount_problem("policies.turn_budget.max_cost", policies.turn_budget.max_cost)
    return problems


def _check_client_model_rules(catalog: catalog_pb2.Catalog, role_names: set[str]) -> list[str]:
    """A rule must match something and give a role that exists (RM-CAT-009)."""
    problems = []
    for i, rule in enumerate(catalog.policies.client_model_rules):
        path = f"policies.client_model_rules[{i}]"
        if not rule.model_pattern:
            problems.append(f"{path}.model_pattern: a rule needs a pattern, for example 'claude-haiku-*'")
        if rule.role not in role_names:
            problems.append(f"{path}.role: unknown role '{rule.role}'")
    return problems


def semantic_problems(catalog: catalog_pb2.Catalog) -> list[str]:
    """Every rule of spec 3.4 that the JSON Schema cannot express."""
    endpoint_ids = {e.id for e in catalog.endpoints}
    role_names = {r.name for r in catalog.roles}
    problems = _check_endpoints(catalog)
    problems += _check_roles(catalog, endpoint_ids)
    problems += _check_handoff(catalog)
    problems += _check_policies(catalog, endpoint_ids, role_names)
    problems += _check_client_model_rules(catalog, role_names)
    known = set(available_estimators())
    for i, role in enumerate(catalog.roles):
        if role.difficulty_estimator and role.difficulty_estimator not in known:
            problems.append(
                f"roles[{i}].difficulty_estimator: unknown estimator '{role.difficulty_estimator}' "
                f"(available: {', '.join(sorted(known))})"
            )
    if not catalog.endpoints:
        problems.append("endpoints: a catalog needs at least one endpoint")
    if not catalog.roles:
        problems.append("roles: a catalog needs at least one role")
    return problems


def parse_catalog(data: Any, source: str) -> LoadedCatalog:
    """Validate parsed YAML or JSON and build the catalog; raises CatalogError."""
    if not isinstance(data, dict):
        raise CatalogError(source, ["(top level): a catalog is a mapping with endpoints and roles"])
    problems = _schema_problems(data)
    if problems:
        raise CatalogError(source, problems)
    catalog = json_format.ParseDict(data, catalog_pb2.Catalog())
    problems = semantic_problems(catalog)
    if problems:
        raise CatalogError(source, problems)
    digest = hashlib.sha256(catalog.SerializeToString(deterministic=True)).hexdigest()
    return LoadedCatalog(catalog=catalog, digest=digest, source=source)


def load_catalog(path: Path) -> LoadedCatalog:
    """Read a catalog file (YAML or JSON; JSON is YAML) and validate it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CatalogError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(unknown position)"
        raise CatalogError(str(path), [f"{where}: not valid YAML or JSON: {getattr(exc, 'problem', exc)}"]) from None
    return parse_catalog(data, str(path))
