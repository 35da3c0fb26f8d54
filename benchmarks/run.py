"""Runner overhead against plain asyncio doing the same model calls.

    python benchmarks/run.py [--quick]

Prints figures, not verdicts for CI: times on a shared 2-core machine move, so the suite
asserts behaviour and this script reports ratios against a baseline measured in the same run.

* chain:   a 3-agent sequential workflow on a 0 ms model, recorded in a SQLite file store,
           vs. a loop awaiting the same model three times. Overhead per step = difference / steps.
* fan-out: 1000 agent steps (foreach, concurrency 100) on a 100 ms model, vs. asyncio.gather
           with a semaphore of 100 over the same 1000 calls. Wall-time ratio.
* import:  `import agentweaver` and `from agentweaver import agent, AgentWorkflow` in fresh
           interpreters (median of several), and which vendor SDKs that imported (none, we hope).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentweaver import AgentWorkflow, FunctionModel, LocalRunner, agent
from agentweaver.models import ModelRequestParameters, ModelSettings, SystemMessage, UserMessage
from agentweaver.models.messages import ModelResponse, Usage
from agentweaver.stores.sqlite import SQLiteStore

TARGET_STEP_OVERHEAD_MS = 0.2
TARGET_FANOUT_RATIO = 1.05
TARGET_IMPORT_MS = 150.0


def instant(messages: list[object], info: object) -> ModelResponse:
    return ModelResponse("ok", usage=Usage(10, 5, requests=1))


async def slow(messages: list[object], info: object) -> ModelResponse:
    await asyncio.sleep(0.1)
    return ModelResponse("ok", usage=Usage(10, 5, requests=1))


def chain_workflow(model: FunctionModel) -> AgentWorkflow:
    @agent(role="Researcher", model=model)
    def researcher(topic: str) -> None: ...

    @agent(role="Writer", model=model)
    def writer(notes: str) -> None: ...

    @agent(role="Reviewer", model=model)
    def reviewer(draft: str) -> None: ...

    return AgentWorkflow([researcher, writer, reviewer], name="chain")


async def baseline_chain(model: FunctionModel, runs: int) -> float:
    settings, params = ModelSettings(0.7, 4000), ModelRequestParameters()
    start = time.perf_counter()
    for _ in range(runs):
        value = "topic"
        for _step in range(3):
            messages = [SystemMessage("You are the agent."), UserMessage(value)]
            value = (await model.request(messages, settings, params)).text
    return time.perf_counter() - start


async def agentweaver_chain(model: FunctionModel, runs: int, store: SQLiteStore) -> float:
    workflow = chain_workflow(model)
    runner = LocalRunner(store)
    start = time.perf_counter()
    for _ in range(runs):
        result = await runner.run(workflow, "topic")
        assert result.succeeded, result.errors
    return time.perf_counter() - start


async def baseline_fanout(model: FunctionModel, n: int, limit: int) -> float:
    settings, params = ModelSettings(0.7, 4000), ModelRequestParameters()
    semaphore = asyncio.Semaphore(limit)

    async def one(i: int) -> str:
        async with semaphore:
            messages = [SystemMessage("You are the agent."), UserMessage(str(i))]
            return (await model.request(messages, settings, params)).text

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - start


async def agentweaver_fanout(model: FunctionModel, n: int, limit: int, store: SQLiteStore) -> float:
    @agent(role="Analyst", model=model)
    def analyst(item: int) -> None: ...

    workflow = AgentWorkflow(
        [analyst], name="fanout", flow={"foreach": "$", "do": "analyst", "max_parallel": limit}
    )
    runner = LocalRunner(store)
    start = time.perf_counter()
    result = await runner.run(workflow, list(range(n)))
    elapsed = time.perf_counter() - start
    assert result.succeeded, result.errors
    assert len(result.steps) == n
    return elapsed


def import_ms(statement: str, repeats: int) -> tuple[float, list[str]]:
    code = (
        "import sys, time; t = time.perf_counter(); "
        f"{statement}; e = time.perf_counter() - t; "
        "vendors = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'anthropic', 'openai', 'google', 'boto3', 'botocore', 'pynamodb', 'fastapi'}); "
        "print(e * 1000, ','.join(vendors))"
    )
    times, vendors = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        ms, _, found = out.stdout.strip().partition(" ")
        times.append(float(ms))
        vendors = [v for v in found.split(",") if v]
    return statistics.median(times), vendors


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


async def main(quick: bool) -> None:
    runs = 200 if quick else 1000
    fan_n, fan_limit = 1000, 100
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        model = FunctionModel(instant)
        await agentweaver_chain(model, 20, store)  # warm up imports, schema, caches
        await baseline_chain(model, 20)
        gc.collect()
        base = min([await baseline_chain(model, runs) for _ in range(3)])
        ours = min([await agentweaver_chain(model, runs, store) for _ in range(3)])
        steps = runs * 3
        per_step_ms = (ours - base) / steps * 1000
        print(f"chain    3 agents x {runs} runs, 0 ms model, SQLite file store")
        print(
            f"         baseline {base * 1e6 / steps:8.1f} us/step   agentweaver "
            f"{ours * 1e6 / steps:8.1f} us/step"
        )
        print(
            f"         overhead {per_step_ms:.3f} ms/step "
            f"(target <= {TARGET_STEP_OVERHEAD_MS} ms): "
            f"{verdict(per_step_ms <= TARGET_STEP_OVERHEAD_MS)}"
        )

        slow_model = FunctionModel(slow)
        fan_base = await baseline_fanout(slow_model, fan_n, fan_limit)
        fan_ours = await agentweaver_fanout(slow_model, fan_n, fan_limit, store)
        ratio = fan_ours / fan_base
        print(f"fan-out  {fan_n} steps, concurrency {fan_limit}, 100 ms model")
        print(
            f"         baseline {fan_base:.3f} s   agentweaver {fan_ours:.3f} s   "
            f"ratio {ratio:.3f} "
            f"(target <= {TARGET_FANOUT_RATIO}): {verdict(ratio <= TARGET_FANOUT_RATIO)}"
        )
        store.close()

    repeats = 3 if quick else 7
    bare, vendors = import_ms("import agentweaver", repeats)
    full, vendors_full = import_ms(
        "from agentweaver import agent, AgentWorkflow, LocalRunner", repeats
    )
    python, _ = import_ms("pass", repeats)
    print(
        f"import   `import agentweaver` {bare:.1f} ms (target < {TARGET_IMPORT_MS} ms): "
        f"{verdict(bare < TARGET_IMPORT_MS)}; vendor SDKs imported: {vendors or 'none'}"
    )
    print(
        f"         `from agentweaver import agent, AgentWorkflow, LocalRunner` {full:.1f} ms "
        f"(pydantic + asyncio included); vendor SDKs imported: {vendors_full or 'none'}"
    )
    print(f"         (an empty statement measures {python:.2f} ms in the same harness)")

    from transitions import report  # benchmarks/transitions.py (needs the dev extras: moto)

    report()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke check")
    asyncio.run(main(parser.parse_args().quick))
