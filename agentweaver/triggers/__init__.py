"""Workflow triggers: S3 objects, EventBridge events and schedules that start executions.

``spec`` (the definition's ``triggers:``) and ``patterns`` are pure; ``dispatch`` starts
executions through an ``Executor`` and is what ``functions/triggers/handler.py`` calls.
"""
