"""POST /events: the workflows whose event triggers fit start once, for the caller only."""

from __future__ import annotations

from typing import Any

from support.api import DEFINITION, Api, create, wait

TRIGGERED: dict[str, Any] = {
    **DEFINITION,
    "name": "on-order",
    "triggers": [{"event": {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}}],
}


def _put(api: Api, **body: Any) -> Any:
    response = api.post("/events", json={"source": "shop", "detail-type": "OrderPlaced", **body})
    assert response.status_code == 202, response.text
    return response.json()


def test_a_fitting_event_starts_the_workflow_with_the_event_as_input(api: Api) -> None:
    workflow = create(api, TRIGGERED)
    create(api)  # no triggers: never started by an event
    accepted = _put(api, detail={"total": 150}, id="order-1")
    assert [s["workflow_id"] for s in accepted["started"]] == [workflow["id"]]
    done = wait(api, accepted["started"][0]["execution_id"])
    assert done["status"] == "succeeded"
    assert done["input"]["detail"]["total"] == 150
    assert done["input"]["source"] == "shop"


def test_the_same_event_twice_starts_one_execution(api: Api) -> None:
    create(api, TRIGGERED)
    first = _put(api, detail={"total": 150}, id="order-2")
    second = _put(api, detail={"total": 150}, id="order-2")
    assert second["started"][0]["execution_id"] == first["started"][0]["execution_id"]
    assert second["started"][0]["duplicate"] is True
    assert len(api.get("/executions").json()["items"]) == 1


def test_an_event_that_does_not_fit_starts_nothing(api: Api) -> None:
    create(api, TRIGGERED)
    assert _put(api, detail={"total": 50})["started"] == []
    assert api.post("/events", json={"source": "other", "detail-type": "X"}).json()["started"] == []
    assert api.get("/executions").json()["items"] == []


def test_events_reach_only_the_callers_workflows(api: Api, other: Api) -> None:
    create(api, TRIGGERED)
    # tenant b cannot address tenant a by naming it in the detail
    accepted = _put(other, detail={"total": 500, "owner": "local"})
    assert accepted["started"] == []
    assert api.get("/executions").json()["items"] == []


def test_bad_events_and_bad_triggers_are_refused(api: Api) -> None:
    bad = api.post("/events", json={"source": "shop"})
    assert bad.status_code == 422
    assert "detail-type" in bad.text
    bad_id = api.post("/events", json={"source": "shop", "detail-type": "X", "id": "a b"})
    assert bad_id.status_code == 422
    refused = api.post("/workflows/", json={**DEFINITION, "triggers": [{"schedule": "daily"}]})
    assert refused.status_code == 422
    assert "rate(5 minutes)" in refused.text
