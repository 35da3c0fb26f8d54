"""Skill matching: which agent fits a task, by an explainable word overlap.

Pure and dependency-free, because the workflow runner's ``route: {by: skills}`` uses it too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agentweaver.exceptions import DefinitionError

__all__ = [
    "match_answer",
    "select_by_skills",
    "skill_score",
    "skill_scores",
    "skill_tokens",
    "task_text",
]


_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a about after all also am an and any are as at be been but by can could did do does for "
    "from had has have he her him his how i if in into is it its me my no not of on or our "
    "please she so than that the their them then there these they this those to up us was we "
    "were what when where which who why will with would you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_PRIORITY_KEYS = ("title", "description", "body")


def _stem(word: str) -> str:
    """Crude and predictable: charge/charges/charged/charging all become ``charg``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    changed = True
    while changed:
        changed = False
        for suffix in ("ing", "ed", "s"):
            if suffix == "s" and word.endswith("ss"):
                continue
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word, changed = word[: -len(suffix)], True
                break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def skill_tokens(text: str) -> set[str]:
    """Lower-cased, stop-word-free, stemmed words: the vocabulary skills are matched on."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS}


def task_text(task: Any) -> str:
    """A task as text; a dict contributes its values, ``title``/``description``/``body`` first."""
    if isinstance(task, str):
        return task
    if isinstance(task, Mapping):
        keys = [k for k in _PRIORITY_KEYS if k in task] + [
            k for k in task if k not in _PRIORITY_KEYS
        ]
        return "\n".join(task_text(task[k]) for k in keys)
    return json.dumps(task, ensure_ascii=False, default=str)


def skill_score(task: Any, *, role: str, description: str = "", tools: Sequence[str] = ()) -> float:
    """Weighted overlap of the task's words with a role (3), description (2) and tools (1)."""
    words = skill_tokens(task_text(task))
    tool_words = skill_tokens(" ".join(t.replace("_", " ") for t in tools))
    return float(
        3 * len(words & skill_tokens(role))
        + 2 * len(words & skill_tokens(description))
        + len(words & tool_words)
    )


def skill_scores(
    task: Any, candidates: Mapping[str, tuple[str, str, Sequence[str]]]
) -> dict[str, float]:
    """Each candidate's ``skill_score``; candidates are ``key -> (role, description, tools)``."""
    return {
        key: skill_score(task, role=role, description=description, tools=tools)
        for key, (role, description, tools) in candidates.items()
    }


def select_by_skills(task: Any, candidates: Mapping[str, tuple[str, str, Sequence[str]]]) -> str:
    """The best-matching candidate's key; the first one listed wins a tie."""
    if not candidates:
        raise DefinitionError("no candidates to select from")
    scores = skill_scores(task, candidates)
    return max(scores, key=lambda key: scores[key])  # max keeps the first of equal scores


def match_answer(answer: str, labels: Mapping[str, Sequence[str]]) -> str | None:
    """Which key a model's answer names: an exact label (ignoring case, quotes and
    punctuation) first, else the label mentioned earliest as a whole word (longest on ties).

    ``labels`` maps each key to the words that name it (a case name; an agent's name and role).
    Used for router steps and the coordinator alike, so both read answers the same way.
    """
    cleaned = answer.strip().strip("\"'`*.,;:!?()[] \t\n").lower()
    for key, names in labels.items():
        if cleaned in (n.lower() for n in names):
            return key
    best: tuple[int, int, str] | None = None
    for key, names in labels.items():
        for label in names:
            hit = re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", answer, re.IGNORECASE)
            if hit and (best is None or (hit.start(), -len(label)) < best[:2]):
                best = (hit.start(), -len(label), key)
    return best[2] if best else None
