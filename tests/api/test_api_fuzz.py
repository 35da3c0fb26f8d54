"""Schemathesis over the OpenAPI schema: no generated request gets a 5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from agentweaver.api import create_app
from agentweaver.api.local import local_services

EXAMPLES = 30  # per operation; every route of the schema is covered


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    services, token = local_services(tmp_path / "home", model_override="test")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(services))
    headers = {"Authorization": f"Bearer {token}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def no_server_error(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        no_server_error()
        checked.append(f"{operation.method.upper()} {operation.path}")
    services.store.close()
    assert "POST /workflows/" in checked
    assert len(checked) >= 20
