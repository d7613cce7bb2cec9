"""docs/clients.md's subscription catalog is a catalog the router loads, with the parts the text describes."""

from __future__ import annotations

import yaml

from rolemodel.v1 import catalog_pb2
from rolemodel_router.config.catalog_loader import parse_catalog
from tests.http.test_clients_doc import snippet


def test_the_subscription_catalog_loads_and_paces_the_plan() -> None:
    catalog = parse_catalog(yaml.safe_load(snippet("subscription-catalog")), "docs/clients.md").catalog
    (plan,) = [e for e in catalog.endpoints if e.id == "chatgpt"]
    assert list(plan.connection.client_credential_headers) == ["authorization", "chatgpt-account-id"]
    assert not plan.connection.api_key_env
    kinds = {q.id: q.window_kind for q in catalog.policies.quotas}
    assert kinds == {
        "plan-5h": catalog_pb2.QUOTA_WINDOW_KIND_REPORTED,
        "plan-7d": catalog_pb2.QUOTA_WINDOW_KIND_REPORTED,
    }
    assert catalog.policies.premium_share_targets[0].pace_quota_id == "plan-5h"
