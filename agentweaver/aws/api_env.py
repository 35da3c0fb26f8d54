"""The AWS composition root of the API: DynamoDB, Step Functions, Cognito, KMS.

Environment (set by the CDK app): ``AGENTWEAVER_STORE=dynamodb``,
``AGENTWEAVER_TABLE_PREFIX``, ``AGENTWEAVER_STEP_FUNCTION_ARN`` (the agent-step Lambda),
``AGENTWEAVER_SFN_ROLE_ARN``, ``AGENTWEAVER_COGNITO_POOL_ID``, ``AGENTWEAVER_COGNITO_CLIENT_ID``,
``AGENTWEAVER_KMS_KEY_ID``, ``AWS_REGION``. A missing one is a ``ConfigurationError`` naming it.
"""

from __future__ import annotations

import os

from agentweaver.api.auth import Authenticator
from agentweaver.api.services import Services
from agentweaver.exceptions import ConfigurationError

__all__ = ["services_from_env"]


def _need(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def services_from_env() -> Services:
    from agentweaver.aws.kms_vault import KmsKeyVault
    from agentweaver.aws.lambda_env import store_from_env
    from agentweaver.aws.sfn_executor import StepFunctionsExecutor
    from agentweaver.security.jwt import CognitoVerifier

    store = store_from_env()
    if store is None:
        raise ConfigurationError("AGENTWEAVER_STORE is not set")
    function_arn = _need("AGENTWEAVER_STEP_FUNCTION_ARN")
    executor = StepFunctionsExecutor(
        store,
        function_arn=function_arn,
        role_arn=_need("AGENTWEAVER_SFN_ROLE_ARN"),
        prefix=os.environ.get("AGENTWEAVER_TABLE_PREFIX", "agentweaver"),
    )
    verifier = CognitoVerifier(
        _need("AWS_REGION"),
        _need("AGENTWEAVER_COGNITO_POOL_ID"),
        _need("AGENTWEAVER_COGNITO_CLIENT_ID"),
    )
    return Services(
        store=store,
        executor=executor,
        auth=Authenticator(store, jwt=verifier),
        vault=KmsKeyVault(_need("AGENTWEAVER_KMS_KEY_ID")),
        compile_options={"function_arn": function_arn},
    )
