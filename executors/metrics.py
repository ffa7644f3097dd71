"""The executor's Prometheus metrics, created once."""

from prometheus_client import Counter, Gauge, Histogram

from executors.sandbox import SandboxStats
from shared.metrics import LATENCY_BUCKETS

INVOCATIONS = Counter(
    "faas_executor_invocations_total",
    "Invocations finished by this executor, by outcome (succeeded or error code).",
    ["outcome"],
)
RUN_DURATION = Histogram(
    "faas_executor_run_duration_seconds",
    "Time spent running one invocation in the sandbox.",
    buckets=LATENCY_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "faas_executor_queue_wait_seconds",
    "From the gateway's submission to the start of the run.",
    buckets=LATENCY_BUCKETS,
)
EXPIRED = Counter(
    "faas_executor_expired_total",
    "Invocations dropped unrun because their caller's deadline had passed.",
)
REDELIVERED = Counter(
    "faas_executor_retries_total",
    "Invocations handed back for another attempt after their worker crashed.",
)
SLOTS = Gauge("faas_executor_slots", "Invocations this executor runs at once.")
BUSY_SLOTS = Gauge("faas_executor_busy_slots", "Slots running an invocation now.")

SANDBOX_WARM = Gauge("faas_sandbox_warm_workers", "Workers loaded with a function.")
SANDBOX_SPARE = Gauge(
    "faas_sandbox_spare_workers", "Clean workers started ahead of need."
)
SANDBOX_MEMORY = Gauge(
    "faas_sandbox_worker_memory_bytes",
    "Proportional memory of every sandbox worker together.",
)
SANDBOX_COLD_STARTS = Counter(
    "faas_sandbox_cold_starts_total", "Calls that had to load their function first."
)
SANDBOX_RECYCLED = Counter(
    "faas_sandbox_workers_recycled_total",
    "Workers retired: evicted, worn out, or killed after a failure or timeout.",
)


def report_sandbox(stats: SandboxStats, previous: SandboxStats | None) -> None:
    """Copy a snapshot of the sandbox pool into the metrics."""
    SANDBOX_WARM.set(stats.warm_workers)
    SANDBOX_SPARE.set(stats.spare_workers)
    SANDBOX_MEMORY.set(stats.memory_bytes)
    SANDBOX_COLD_STARTS.inc(
        stats.cold_starts - (previous.cold_starts if previous else 0)
    )
    SANDBOX_RECYCLED.inc(stats.recycled - (previous.recycled if previous else 0))
