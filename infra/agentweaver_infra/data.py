"""Data: the eight DynamoDB tables, the provider-key KMS key, the artifacts bucket.

The tables mirror ``agentweaver/aws/dynamodb_models.py`` exactly (names, key types,
indexes, TTL attribute): the store does not create tables on AWS, so a difference here is
a runtime ``ValidationException``. ``TABLES`` below is the single spec the stack and the
tests both read. On-demand billing because AgentWeaver's traffic is bursty and idles at
zero; point-in-time recovery on every table because executions and keys are user data.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from agentweaver_infra.config import StageConfig

__all__ = ["PAYLOAD_PREFIX", "TABLES", "Data", "TableSpec"]

PAYLOAD_PREFIX = "payloads"  # agentweaver.aws.lambda_env's default AGENTWEAVER_PAYLOAD_PREFIX
_S, _N = dynamodb.AttributeType.STRING, dynamodb.AttributeType.NUMBER


@dataclass(frozen=True)
class TableSpec:
    """One table: partition / sort key, GSIs as ``name -> (pk, sk)`` (all string keys, all
    attributes projected, as in the pynamodb models) and the TTL attribute if any."""

    pk: str
    sk: tuple[str, dynamodb.AttributeType] | None = None
    indexes: tuple[tuple[str, str, str], ...] = ()
    ttl: str | None = None


TABLES: dict[str, TableSpec] = {
    "workflows": TableSpec("owner", ("workflow_id", _S)),
    "executions": TableSpec(
        "owner",
        ("execution_id", _S),
        indexes=(
            ("by_created", "owner", "created_key"),
            ("by_workflow", "owner_workflow", "created_key"),
            ("by_status", "owner_status", "created_key"),
        ),
    ),
    "steps": TableSpec("execution_id", ("step_id", _S)),
    "logs": TableSpec("execution_id", ("seq", _N), ttl="expires_at"),
    "usage": TableSpec("owner", ("day", _S)),
    "api-keys": TableSpec("key_hash", indexes=(("by_owner", "owner", "key_id"),)),
    "provider-keys": TableSpec("owner", ("provider", _S)),
    "idempotency": TableSpec("claim", ttl="expires_at"),
}


class Data(Construct):
    """Stateful resources; retained on ``destroy`` when the stage keeps data (prod)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.keeps_data else RemovalPolicy.DESTROY
        self.tables: dict[str, dynamodb.Table] = {}
        for kind, spec in TABLES.items():
            self.tables[kind] = self._table(config, kind, spec, removal)

        self.provider_key = kms.Key(
            self,
            "ProviderKeys",
            alias=f"alias/{config.prefix}-provider-keys",
            description=f"AgentWeaver {config.stage}: encrypts tenants' LLM provider API keys "
            "(encryption context agentweaver:owner)",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.keeps_data else 7),
            removal_policy=removal,
        )

        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,  # payloads are content-addressed and immutable
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-offloaded-payloads",
                    prefix=f"{PAYLOAD_PREFIX}/",
                    expiration=Duration.days(config.payload_retention_days),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            removal_policy=removal,
            auto_delete_objects=not config.keeps_data,
        )

    def _table(
        self, config: StageConfig, kind: str, spec: TableSpec, removal: RemovalPolicy
    ) -> dynamodb.Table:
        sort_key = None
        if spec.sk is not None:
            sort_key = dynamodb.Attribute(name=spec.sk[0], type=spec.sk[1])
        table = dynamodb.Table(
            self,
            "".join(part.title() for part in kind.split("-")) + "Table",
            table_name=f"{config.prefix}-{kind}",
            partition_key=dynamodb.Attribute(name=spec.pk, type=_S),
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl,
            deletion_protection=config.keeps_data,
            removal_policy=removal,
        )
        for name, pk, sk in spec.indexes:
            table.add_global_secondary_index(
                index_name=name,
                partition_key=dynamodb.Attribute(name=pk, type=_S),
                sort_key=dynamodb.Attribute(name=sk, type=_S),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def grant_tables(
        self, grantee: iam.IGrantable, *, read: tuple[str, ...] = (), write: tuple[str, ...] = ()
    ) -> None:
        """Read-only or read-write data access to the named tables (and their indexes),
        nothing else: CDK's grants list each action, never ``dynamodb:*``."""
        for kind in read:
            self.tables[kind].grant_read_data(grantee)
        for kind in write:
            self.tables[kind].grant_read_write_data(grantee)

    def grant_table_actions(
        self, grantee: iam.IGrantable, kind: str, *actions: str, indexes: bool = False
    ) -> None:
        """Exactly ``actions`` on one table (and its indexes if ``indexes``): for roles that
        need less than CDK's read or read-write bundles."""
        table = self.tables[kind]
        resources = [table.table_arn]
        if indexes:
            resources.append(f"{table.table_arn}/index/*")
        iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=resources)
