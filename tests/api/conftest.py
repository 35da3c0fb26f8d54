from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.api import Api

from agentweaver.api import create_app
from agentweaver.api.local import local_services
from agentweaver.api.services import Services


@pytest.fixture
def local(tmp_path: Path) -> Iterator[tuple[TestClient, Services, str]]:
    services, token = local_services(tmp_path / "home", model_override="test")
    with TestClient(create_app(services)) as client:
        yield client, services, token
    services.store.close()


@pytest.fixture
def api(local: tuple[TestClient, Services, str]) -> Api:
    client, _, token = local
    return Api(client, token)


@pytest.fixture
def other(local: tuple[TestClient, Services, str]) -> Api:
    """A second tenant, signing in with an API key of its own."""
    from agentweaver.security.api_keys import new_api_key

    client, services, _ = local
    secret, record = new_api_key("tenant-b", "b's key", ["*"])
    services.store.save_api_key(record)
    return Api(client, secret)
