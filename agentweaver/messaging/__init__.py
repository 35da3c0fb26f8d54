"""Inter-agent communication: messages, a hub that delivers them, and a coordinator."""

from agentweaver.messaging.coordinator import CoordinatorAgent, RoutingDecision
from agentweaver.messaging.hub import CommunicationHub, Message
from agentweaver.messaging.skills import (
    match_answer,
    select_by_skills,
    skill_score,
    skill_scores,
    skill_tokens,
    task_text,
)

__all__ = [
    "CommunicationHub",
    "CoordinatorAgent",
    "Message",
    "RoutingDecision",
    "match_answer",
    "select_by_skills",
    "skill_score",
    "skill_scores",
    "skill_tokens",
    "task_text",
]
