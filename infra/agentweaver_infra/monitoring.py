"""Monitoring: one dashboard and the alarms an operator of a stage needs, to one SNS topic.

Alarms read the Powertools metrics the functions emit (namespace ``AgentWeaver``, dimension
``service`` = ``<prefix>-<function>``, so stages do not mix) plus AWS/Lambda and API
Gateway metrics. Per-function Lambda metrics are summed with metric math into one alarm
each for errors and throttles: the same coverage as one alarm per function, for fewer
alarms to pay for and triage. Missing data is "not breaching": an idle stage is healthy.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from agentweaver_infra.config import StageConfig

__all__ = ["NAMESPACE", "Monitoring"]

NAMESPACE = "AgentWeaver"
FIVE_MINUTES = Duration.minutes(5)
ONE_DAY = Duration.days(1)
# which functions emit the execution-level metrics: the agent-step's finish Task records
# successes, failures and cost; the status-change function records timeouts and aborts
_EXECUTION_EMITTERS = ("agent-step", "execution-events")


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: dict[str, lambda_.Function],
        http_api: apigwv2.HttpApi,
        queues: dict[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=f"{config.prefix}-alarms",
            enforce_ssl=True,
            display_name=f"AgentWeaver {config.stage} alarms",
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        failed = self._sum("ExecutionsFailed", "Sum", FIVE_MINUTES, "failed executions")
        succeeded = self._sum("ExecutionsSucceeded", "Sum", FIVE_MINUTES, "succeeded")
        cost = self._sum("CostUSD", "Sum", ONE_DAY, "cost per day (USD)")
        step_p95 = self._metric("StepDuration", "agent-step", "p95", FIVE_MINUTES)
        steps_failed = self._metric("StepsFailed", "agent-step", "Sum", FIVE_MINUTES)
        errors = _lambda_sum(functions, "Errors", "Lambda errors")
        throttles = _lambda_sum(functions, "Throttles", "Lambda throttles")
        api_5xx = http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")

        self._alarm("ExecutionsFailed", failed, 1, "executions failed, timed out or aborted")
        self._alarm("LambdaErrors", errors, 1, "a function raised (any of them)")
        self._alarm("LambdaThrottles", throttles, 1, "a function was throttled")
        self._alarm("Api5xx", api_5xx, 5, "the API answered 5xx")
        self._alarm(
            "StepDurationP95",
            step_p95,
            config.step_p95_alarm_ms,
            "p95 agent-step duration over the threshold (ms)",
            periods=3,
            datapoints=2,
        )
        self._alarm(
            "DailyCost",
            cost,
            config.daily_cost_alarm_usd,
            "model cost of finished executions today over the budget (USD)",
        )
        for name, queue in queues.items():
            depth = queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            )
            self._alarm(f"{name}Dlq", depth, 1, f"events dead-lettered to {name}")

        lambda_widgets = [
            cloudwatch.GraphWidget(
                title=f"{name}: invocations, errors, throttles",
                left=[fn.metric_invocations(), fn.metric_errors(), fn.metric_throttles()],
                width=6,
            )
            for name, fn in functions.items()
        ]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=config.prefix,
            default_interval=Duration.days(1),
            widgets=[
                [
                    cloudwatch.GraphWidget(title="Executions", left=[succeeded, failed], width=8),
                    cloudwatch.GraphWidget(
                        title="Agent steps: duration p50 / p95 (ms), failures",
                        left=[
                            self._metric("StepDuration", "agent-step", "p50", FIVE_MINUTES),
                            step_p95,
                        ],
                        right=[steps_failed],
                        width=8,
                    ),
                    cloudwatch.GraphWidget(title="Model cost per day (USD)", left=[cost], width=8),
                ],
                lambda_widgets,
                [
                    cloudwatch.GraphWidget(
                        title="API requests and errors",
                        left=[http_api.metric_count(period=FIVE_MINUTES)],
                        right=[http_api.metric_client_error(period=FIVE_MINUTES), api_5xx],
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title="API latency p95 (ms)",
                        left=[http_api.metric_latency(period=FIVE_MINUTES, statistic="p95")],
                        width=6,
                    ),
                    cloudwatch.AlarmStatusWidget(
                        title="Alarms", alarms=list(self.alarms.values()), width=6
                    ),
                ],
            ],
        )

    def _metric(
        self, name: str, function: str, statistic: str, period: Duration
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"service": self.config.service(function)},
            statistic=statistic,
            period=period,
        )

    def _sum(
        self, name: str, statistic: str, period: Duration, label: str
    ) -> cloudwatch.MathExpression:
        """One metric summed over the functions that emit it (missing data counts as 0)."""
        using = {
            f"{name.lower()}{i}": self._metric(name, fn, statistic, period)
            for i, fn in enumerate(_EXECUTION_EMITTERS)
        }
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({key}, 0)" for key in using),
            using_metrics=using,
            label=label,
            period=period,
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        what: str,
        *,
        periods: int = 1,
        datapoints: int = 1,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{self.config.prefix}-{name}",
            alarm_description=f"AgentWeaver {self.config.stage}: {what}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm


def _lambda_sum(
    functions: dict[str, lambda_.Function], metric: str, label: str
) -> cloudwatch.MathExpression:
    using = {
        f"{metric.lower()}{i}": fn.metric(metric, period=FIVE_MINUTES, statistic="Sum")
        for i, fn in enumerate(functions.values())
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({key}, 0)" for key in using),
        using_metrics=using,
        label=label,
        period=FIVE_MINUTES,
    )
