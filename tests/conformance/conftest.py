from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.moto_sfn import StepFunctionsHarness, step_functions


@pytest.fixture(scope="module")
def sfn() -> Iterator[StepFunctionsHarness]:
    with step_functions() as harness:
        yield harness
