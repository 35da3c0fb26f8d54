"""The infra tests' stages: one synthesised stack each, built once per session."""

from __future__ import annotations

import pytest
from support.infra import Synth, synth


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Stage ``dev`` with the example state machines and an alarm e-mail."""
    return synth(
        tmp_path_factory.mktemp("dev"),
        "dev",
        example_state_machines=True,
        alarm_email="ops@example.com",
    )


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Stage ``prod`` on x86_64: data retained, no examples."""
    return synth(tmp_path_factory.mktemp("prod"), "prod", architecture="x86_64")
