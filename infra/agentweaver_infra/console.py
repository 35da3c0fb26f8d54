"""Console: the built React app in a private bucket behind CloudFront (origin access
control), with client-side routing and a runtime ``/config.json``.

The API URL and Cognito ids are written as ``config.json`` at deploy time instead of being
baked into the bundle, so one build of ``frontend/dist`` serves every stage and the API can
be redeployed without rebuilding the console. ``config.json`` is never cached by CloudFront;
unknown paths (403/404 from S3) answer ``/index.html`` with 200 so deep links work.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from agentweaver_infra.config import StageConfig

__all__ = ["CONFIG_FILE", "Console"]

CONFIG_FILE = "config.json"


class Console(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.bucket = s3.Bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,  # rebuilt from frontend/dist on every deploy
            auto_delete_objects=True,
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        spa_fallback = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"AgentWeaver {config.stage} console",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
            ),
            additional_behaviors={
                f"/{CONFIG_FILE}": cloudfront.BehaviorOptions(
                    origin=origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                )
            },
            error_responses=spa_fallback,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def publish(self, runtime_config: dict[str, Any]) -> None:
        """Upload the app and its ``config.json``; invalidate the distribution.

        Two deployments: the app's (pruning stale files, but never ``config.json``) and
        then the config's, so a fresh app can never be served with a deleted config.
        """
        app = s3deploy.BucketDeployment(
            self,
            "App",
            sources=[s3deploy.Source.asset(str(self.config.console_dir))],
            destination_bucket=self.bucket,
            exclude=[CONFIG_FILE],
            prune=True,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        runtime = s3deploy.BucketDeployment(
            self,
            "RuntimeConfig",
            sources=[s3deploy.Source.json_data(CONFIG_FILE, runtime_config)],
            destination_bucket=self.bucket,
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=[f"/{CONFIG_FILE}"],
        )
        runtime.node.add_dependency(app)
