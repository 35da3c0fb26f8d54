"""``agentweaver serve``: the API (and, once built, the console) on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind (keep 127.0.0.1 unless you "
                                      "put TLS and a firewall in front)")] = "127.0.0.1",
    model_override: Annotated[
        str | None, typer.Option(help="run every agent on this model ('test' runs offline)")
    ] = None,
    max_concurrent: Annotated[int, typer.Option(min=1, max=256, help="runs at once")] = 4,
    console: Annotated[Path | None, typer.Option(
        help="built web console to serve at / (default: frontend/dist when built)")] = None,
    examples: Annotated[bool, typer.Option(
        help="save the bundled examples/*.yaml for you when absent")] = True,
) -> None:  # fmt: skip
    """Serve the AgentWeaver API with the embedded store; prints the access token."""
    import os

    from agentweaver.cli.app import err, fail

    try:
        import uvicorn

        from agentweaver.api import create_app
        from agentweaver.api.console import default_console_dir, load_examples
        from agentweaver.api.local import local_services
    except ImportError as exc:
        hint = "pip install 'agentweaver[api]'"
        raise fail(f"the server needs the api extra: {hint} ({exc})") from None
    home = Path(os.environ.get("AGENTWEAVER_HOME", "~/.agentweaver")).expanduser()
    try:
        services, token = local_services(
            home, model_override=model_override, max_concurrent=max_concurrent
        )
    except OSError as exc:
        raise fail(f"cannot use AGENTWEAVER_HOME={home}: {exc}") from None
    bundled = Path(__file__).resolve().parents[2] / "examples"
    if examples and bundled.is_dir():
        saved = load_examples(
            services.store, bundled, services.auth.local_owner, services.code_modules
        )
        if saved:
            err.print(f"examples saved: {', '.join(saved)}")
    console_dir = console or default_console_dir()
    if console is not None and not (console / "index.html").is_file():
        raise fail(f"--console {console}: no index.html there; build it with make frontend")
    err.print(f"AgentWeaver API on http://{host}:{port}  (docs at /docs)")
    err.print(f"token: {token}   (send it as: Authorization: Bearer <token>)")
    if console_dir is not None:
        err.print(f"console: http://{host}:{port}/#token={token}")
    else:
        err.print("console: not built (make serve builds it)")
    app = create_app(services, console_dir=console_dir)
    uvicorn.run(app, host=host, port=port, log_level="warning")
