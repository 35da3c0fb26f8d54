"""The AWS composition root of the API: DynamoDB, Step Functions, Cognito, KMS.

Environment (set by the CDK app): ``AGENTWEAVER_STORE=dynamodb``,
``AGENTWEAVER_TABLE_PREFIX``, ``AGENTWEAVER_STEP_FUNCTION_ARN`` (the agent-step Lambda),
``AGENTWEAVER_SFN_ROLE_ARN``, ``AGENTWEAVER_COGNITO_POOL_ID``, ``AGENTWEAVER_COGNITO_CLIENT_ID``,
``AGENTWEAVER_KMS_KEY_ID``, ``AWS_REGION``; for schedule triggers
``AGENTWEAVER_SCHEDULE_GROUP``, ``AGENTWEAVER_SCHEDULER_ROLE_ARN`` and
``AGENTWEAVER_TRIGGERS_FUNCTION_ARN``. A missing one is a ``ConfigurationError`` naming it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentweaver.exceptions import ConfigurationError
from agentweaver.runtime.user_code import load_user_modules, modules_from_env
from agentweaver.security.authenticator import Authenticator

if TYPE_CHECKING:
    from agentweaver.api.services import Services
    from agentweaver.aws.schedules import EventBridgeSchedules
    from agentweaver.aws.sfn_executor import StepFunctionsExecutor
    from agentweaver.stores.base import Store

__all__ = ["authenticator_from_env", "executor_from_env", "services_from_env"]


def _need(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def services_from_env() -> Services:
    from agentweaver.api.services import Services
    from agentweaver.aws.kms_vault import KmsKeyVault

    store, executor = executor_from_env()
    function_arn = executor.function_arn
    return Services(
        store=store,
        executor=executor,
        auth=authenticator_from_env(store),
        vault=KmsKeyVault(_need("AGENTWEAVER_KMS_KEY_ID")),
        compile_options={"function_arn": function_arn},
        schedules=_schedules(),
        code_modules=load_user_modules(modules_from_env()),
    )


def authenticator_from_env(store: Store | None = None) -> Authenticator:
    """Cognito JWTs of the pool and API keys from the store: the app's and the gateway's."""
    from agentweaver.aws.lambda_env import store_from_env
    from agentweaver.security.jwt import CognitoVerifier

    store = store or store_from_env()
    if store is None:
        raise ConfigurationError("AGENTWEAVER_STORE is not set")
    verifier = CognitoVerifier(
        _need("AWS_REGION"),
        _need("AGENTWEAVER_COGNITO_POOL_ID"),
        _need("AGENTWEAVER_COGNITO_CLIENT_ID"),
    )
    return Authenticator(store, jwt=verifier)


def executor_from_env() -> tuple[Store, StepFunctionsExecutor]:
    """The store and the Step Functions executor: what the API and the triggers share."""
    from agentweaver.aws.lambda_env import store_from_env
    from agentweaver.aws.sfn_executor import StepFunctionsExecutor

    store = store_from_env()
    if store is None:
        raise ConfigurationError("AGENTWEAVER_STORE is not set")
    executor = StepFunctionsExecutor(
        store,
        function_arn=_need("AGENTWEAVER_STEP_FUNCTION_ARN"),
        role_arn=_need("AGENTWEAVER_SFN_ROLE_ARN"),
        prefix=os.environ.get("AGENTWEAVER_TABLE_PREFIX", "agentweaver"),
    )
    return store, executor


def _schedules() -> EventBridgeSchedules | None:
    """Schedule triggers need the group, the scheduler's role and the triggers function;
    without ``AGENTWEAVER_SCHEDULE_GROUP`` they are off (saved, not scheduled)."""
    from agentweaver.aws.schedules import EventBridgeSchedules

    group = os.environ.get("AGENTWEAVER_SCHEDULE_GROUP", "")
    if not group:
        return None
    return EventBridgeSchedules(
        group,
        role_arn=_need("AGENTWEAVER_SCHEDULER_ROLE_ARN"),
        target_arn=_need("AGENTWEAVER_TRIGGERS_FUNCTION_ARN"),
        dead_letter_arn=os.environ.get("AGENTWEAVER_TRIGGERS_DLQ_ARN") or None,
    )
