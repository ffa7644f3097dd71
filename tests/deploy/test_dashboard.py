"""ops/grafana/jetfaas-dashboard.json asks only for series that exist."""

import json
import re

from prometheus_client.metrics import MetricWrapperBase

from executors import metrics as executor_metrics
from gateway_api import metrics as gateway_metrics
from tests.harness import ROOT

DASHBOARD = ROOT / "ops" / "grafana" / "jetfaas-dashboard.json"
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


def exported_series() -> set[str]:
    names = set()
    for module in (gateway_metrics, executor_metrics):
        for metric in vars(module).values():
            if isinstance(metric, MetricWrapperBase):
                for family in metric.describe():
                    names |= {family.name + s for s in SUFFIXES[family.type]}
    return names


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_every_faas_series_in_the_dashboard_is_exported() -> None:
    exported = exported_series()
    used = {name for e in expressions() for name in re.findall(r"\bfaas_\w+", e)}

    assert used
    assert used <= exported, used - exported


def test_the_dashboard_covers_rate_latency_queue_and_utilisation() -> None:
    text = " ".join(expressions())

    assert "rate(faas_invocations_total" in text
    assert "histogram_quantile(0.99" in text
    assert 'stream_name="INVOCATIONS"' in text
    assert "faas_executor_busy_slots" in text
