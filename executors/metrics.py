"""The executor's Prometheus metrics, created once."""

from prometheus_client import Counter, Gauge, Histogram

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
