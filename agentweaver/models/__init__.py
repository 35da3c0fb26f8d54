"""Vendor-neutral models. Provider adapters live in their own modules, imported on use."""

from agentweaver.models.base import Model
from agentweaver.models.messages import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.pricing import ModelPrice, PriceTable, default_prices
from agentweaver.models.registry import (
    ALIASES,
    ModelType,
    infer_model,
    parse_model_string,
    register_model,
)
from agentweaver.models.test import FunctionModel, RequestInfo, TestModel

__all__ = [
    "ALIASES",
    "AssistantMessage",
    "FunctionModel",
    "Model",
    "ModelMessage",
    "ModelPrice",
    "ModelRequestParameters",
    "ModelResponse",
    "ModelSettings",
    "ModelType",
    "PriceTable",
    "RequestInfo",
    "SystemMessage",
    "TestModel",
    "ToolCall",
    "ToolDefinition",
    "ToolResultMessage",
    "Usage",
    "UserMessage",
    "default_prices",
    "infer_model",
    "parse_model_string",
    "register_model",
]
