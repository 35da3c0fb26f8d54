"""Command line: ``agentweaver run | validate | executions``."""

from agentweaver.cli.app import app, main

__all__ = ["app", "main"]
