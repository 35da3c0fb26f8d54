"""Triggers: what starts a workflow without an API call.

* an **inbox bucket** with EventBridge notifications: ``Object Created`` on the default bus
  invokes the triggers function (EventBridge, not S3 notifications, so rules can filter on
  key prefixes later without touching the bucket, and one bucket can feed many workflows);
* a **custom event bus** ``<prefix>-events``: users ``PutEvents`` their own ``agentweaver``
  events; a rule forwards everything on it;
* an **EventBridge Scheduler group** ``<prefix>``: the API creates one schedule per cron
  trigger when a workflow is saved (schedules are user data, so they are made at run time,
  not synthesised here); the scheduler role may invoke the triggers function only.

Every path that can lose an event ends in one encrypted DLQ: the rules' targets, the
function's asynchronous invocations, and (through the scheduler role) the schedules.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from agentweaver_infra.config import StageConfig

__all__ = ["Triggers"]


class Triggers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        function: lambda_.Function,
        api_function: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if config.keeps_data else RemovalPolicy.DESTROY

        self.dlq = sqs.Queue(
            self,
            "Dlq",
            queue_name=f"{config.prefix}-triggers-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.inbox = s3.Bucket(
            self,
            "Inbox",
            event_bridge_enabled=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-inbox-objects",
                    expiration=Duration.days(config.inbox_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal,
            auto_delete_objects=not config.keeps_data,
        )
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{config.prefix}-events")

        def target() -> targets.LambdaFunction:
            return targets.LambdaFunction(
                function,
                dead_letter_queue=self.dlq,
                retry_attempts=2,
                max_event_age=Duration.hours(1),
            )

        self.object_created_rule = events.Rule(
            self,
            "ObjectCreatedRule",
            rule_name=f"{config.prefix}-inbox-object-created",
            description="objects created in the inbox bucket start the workflows that listen",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [self.inbox.bucket_name]}},
            ),
            targets=[target()],
        )
        self.custom_events_rule = events.Rule(
            self,
            "CustomEventsRule",
            rule_name=f"{config.prefix}-custom-events",
            description="every event put on the stage's bus goes to the triggers function",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=events.Match.prefix("")),
            targets=[target()],
        )
        function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dlq),
            retry_attempts=1,
            max_event_age=Duration.hours(1),
        )
        # no S3 permission on the inbox: the function passes the object's bucket and key to
        # the workflow as its input and never reads the object itself

        self.schedule_group = scheduler.ScheduleGroup(
            self,
            "ScheduleGroup",
            schedule_group_name=config.prefix,
            removal_policy=RemovalPolicy.DESTROY,
        )
        schedules = f"arn:aws:scheduler:{stack.region}:{stack.account}:schedule/{config.prefix}/*"
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            role_name=f"{config.prefix}-scheduler",
            description="assumed by the stage's cron-trigger schedules: invokes the triggers "
            "function, dead-letters to the triggers DLQ",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn, f"{function.function_arn}:*"],
            )
        )
        self.dlq.grant_send_messages(self.scheduler_role)

        api_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                ],
                resources=[schedules],
            )
        )
        # EventBridgeSchedules lists a workflow's schedules (GroupName + NamePrefix) on every
        # save and delete to find stale ones. ListSchedules supports no resource type (Service
        # Authorization Reference), so it can only be granted on "*"; it is its own statement
        # so no other scheduler action widens with it. Read-only: it shows schedule names and
        # states; changing a schedule still needs the group-scoped actions above.
        api_function.add_to_role_policy(
            iam.PolicyStatement(
                # a Sid keeps CDK's minimizePolicies (cdk.json) from merging it with others
                sid="ListSchedulesHasNoResourceType",
                actions=["scheduler:ListSchedules"],
                resources=["*"],
            )
        )
        api_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        shared = {
            "AGENTWEAVER_SCHEDULE_GROUP": self.schedule_group.schedule_group_name,
            "AGENTWEAVER_INBOX_BUCKET": self.inbox.bucket_name,
            "AGENTWEAVER_EVENT_BUS": self.bus.event_bus_name,
        }
        for fn in (function, api_function):
            for key, value in shared.items():
                fn.add_environment(key, value)
        api_function.add_environment("AGENTWEAVER_SCHEDULER_ROLE_ARN", self.scheduler_role.role_arn)
        api_function.add_environment("AGENTWEAVER_TRIGGERS_FUNCTION_ARN", function.function_arn)
        api_function.add_environment("AGENTWEAVER_TRIGGERS_DLQ_ARN", self.dlq.queue_arn)
