"""The AgentWeaver HTTP API (FastAPI): the same app for ``agentweaver serve`` and Lambda.

It receives a ``Store`` and an ``Executor`` (``Services``) and imports no AWS SDK; the
composition root (``agentweaver.api.local`` embedded, ``functions/api/handler.py`` on AWS)
picks the backends.
"""

from agentweaver.api.app import create_app
from agentweaver.api.services import Services

__all__ = ["Services", "create_app"]
