"""The Celery app of the peer benchmark; its worker imports this module.

Celery finds its app by importing a module, so the broker address comes from
the environment the bench gives the worker and the client.
"""

import os

from celery import Celery  # type: ignore[import-untyped]

_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("bench", broker=_url, backend=_url)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@app.task(name="add_one")  # type: ignore[untyped-decorator]
def add_one(value: int) -> int:
    return value + 1
