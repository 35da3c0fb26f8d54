"""Built-in tools, available by name in every definition (``tools: [http_request]``).

Each is configured through ``ToolContext.settings`` (the workflow's ``tool_settings``), never
through the model's arguments. Importing them loads no third-party package: httpx,
SQLAlchemy and boto3 are imported when a tool first runs.
"""

from __future__ import annotations

from agentweaver.aws.dynamodb_tool import TOOLS as DYNAMODB_TOOLS
from agentweaver.tools.base import Tool
from agentweaver.tools.builtin.files import TOOLS as FILE_TOOLS
from agentweaver.tools.builtin.http import TOOLS as HTTP_TOOLS
from agentweaver.tools.builtin.search import TOOLS as SEARCH_TOOLS
from agentweaver.tools.builtin.sql import TOOLS as SQL_TOOLS

__all__ = ["BUILTINS"]

BUILTINS: list[Tool] = [
    *SEARCH_TOOLS,
    *HTTP_TOOLS,
    *FILE_TOOLS,
    *SQL_TOOLS,
    *DYNAMODB_TOOLS,
]
