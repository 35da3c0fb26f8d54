"""API: a Cognito user pool (with hosted UI for the console) and the HTTP API in front of
the FastAPI function.

HTTP API rather than REST API: a third of the price per request, Lambda authorizers with
simple responses, and nothing the app needs is missing (usage plans are the app's own API
keys). Every route but ``GET /health`` carries one **Lambda REQUEST authorizer** (payload
2.0, simple responses, identity source ``Authorization``): it accepts both a Cognito JWT of
the pool's console client and a platform API key (``Authorization: Bearer aw_…``); a
Cognito JWT authorizer would refuse the API keys. Unauthenticated traffic is refused before
the API function runs (and before it costs anything); decisions are cached per
``Authorization`` value for five minutes, so a revoked key may pass the gateway that long,
which is why the app still verifies every credential itself (``agentweaver.api.auth``).
Routes list their methods instead of ``ANY`` so CORS preflight (``OPTIONS``) is answered by
API Gateway, not sent to the authorizer.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from agentweaver_infra.config import StageConfig

__all__ = ["Api"]

LOCAL_CONSOLE = "http://localhost:5173"  # `npm run dev` in frontend/
AUTHORIZER_CACHE_TTL = Duration.minutes(5)
_ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTime",
    "method": "$context.httpMethod",
    "route": "$context.routeKey",
    "status": "$context.status",
    "latency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """``IAccessLogSettings`` is a jsii interface (no struct class to instantiate)."""

    def __init__(
        self, destination: apigwv2.IAccessLogDestination, format: apigw.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        function: lambda_.Function,
        authorizer_function: lambda_.Function,
        console_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.keeps_data else RemovalPolicy.DESTROY
        origins = [console_url, *config.cors_origins]
        if config.stage != "prod":
            origins.append(LOCAL_CONSOLE)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{config.prefix}-users",
            self_sign_up_enabled=False,  # an admin invites users (docs/deploy.md)
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=False,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=config.keeps_data,
            removal_policy=removal,
        )
        # the hosted UI the console signs in with (authorization code + PKCE)
        self.domain = self.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"{config.prefix}-{Stack.of(self).account}"
            ),
        )
        callbacks = [f"{origin}/" for origin in origins]
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"{config.prefix}-console",
            generate_secret=False,  # a browser app cannot keep a secret; PKCE instead
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=callbacks,
                logout_urls=callbacks,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{config.prefix}-api",
            description=f"AgentWeaver {config.stage} API",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=origins,
                allow_methods=[
                    apigwv2.CorsHttpMethod.GET,
                    apigwv2.CorsHttpMethod.POST,
                    apigwv2.CorsHttpMethod.PUT,
                    apigwv2.CorsHttpMethod.PATCH,
                    apigwv2.CorsHttpMethod.DELETE,
                    apigwv2.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    "x-api-key",
                    "last-event-id",
                ],
                max_age=Duration.hours(1),
            ),
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{config.prefix}-api",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # no X-Ray on the stage: API Gateway traces REST APIs only (HTTP API stages have no
        # tracing setting); the functions' own active tracing starts the traces instead
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate, burst_limit=int(config.throttle_burst)
            ),
            access_log_settings=_AccessLogs(
                apigwv2.LogGroupLogDestination(access_logs),
                apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG)),
            ),
        )
        integration = integrations.HttpLambdaIntegration("ApiFunction", function)
        authorizer = authorizers.HttpLambdaAuthorizer(
            "Authorizer",
            authorizer_function,
            authorizer_name=f"{config.prefix}-authorizer",
            identity_source=["$request.header.Authorization"],
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            results_cache_ttl=AUTHORIZER_CACHE_TTL,
        )
        self.http_api.add_routes(
            path="/health",
            methods=[apigwv2.HttpMethod.GET],
            integration=integration,
            authorizer=apigwv2.HttpNoneAuthorizer(),
        )
        self.http_api.add_routes(
            path="/{proxy+}",
            methods=[
                apigwv2.HttpMethod.GET,
                apigwv2.HttpMethod.POST,
                apigwv2.HttpMethod.PUT,
                apigwv2.HttpMethod.PATCH,
                apigwv2.HttpMethod.DELETE,
            ],
            integration=integration,
            authorizer=authorizer,
        )
        for fn in (function, authorizer_function):
            fn.add_environment("AGENTWEAVER_COGNITO_POOL_ID", self.user_pool.user_pool_id)
            fn.add_environment("AGENTWEAVER_COGNITO_CLIENT_ID", self.client.user_pool_client_id)

    @property
    def url(self) -> str:
        """``https://<id>.execute-api.<region>.amazonaws.com`` (no trailing slash)."""
        return f"https://{self.http_api.api_id}.execute-api.{Stack.of(self).region}.amazonaws.com"

    @property
    def cognito_domain(self) -> str:
        return self.domain.base_url()
