"""Write the API's OpenAPI schema to frontend/openapi.json (``make api-client`` runs this).

The console's typed client (src/api/schema.d.ts) is generated from this file; the test
tests/api/test_api_console.py fails when it no longer matches the live app.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def current_schema() -> dict[str, Any]:
    from agentweaver.api import create_app
    from agentweaver.api.local import local_services

    with tempfile.TemporaryDirectory() as home:
        services, _ = local_services(Path(home))
        return create_app(services).openapi()


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "openapi.json"
    target.write_text(render(current_schema()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
