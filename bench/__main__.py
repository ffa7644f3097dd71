"""``python -m bench``: floors, jetfaas and peers measured in one run, as a table.

Each point runs a separate load process for a few seconds on loopback; the whole
run takes about three minutes. ``--json FILE`` also writes every figure.
"""

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import jetfaas, loadgen, report
from bench.floors.runs import http_floor, nats_floors
from bench.measure import Row
from bench.peers.runs import celery_peer, celery_unavailable
from shared.settings import load_settings

log = logging.getLogger("bench")

REFERENCE = "2 executors"
"""The jetfaas row the ratios use: the local stack's default."""


@dataclass
class Results:
    """What one run measured, and what it could not."""

    rows: list[Row] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def text(self) -> str:
        found = report.ratios(self.rows, REFERENCE)
        parts = (
            report.table(self.rows),
            report.ratio_lines(found, REFERENCE),
            report.scaling_lines(self.rows),
            report.cold_line(self.cold),
            "\n".join(self.notes + self.failures),
        )
        return "\n\n".join(part for part in parts if part)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [
                {
                    "group": r.group,
                    "name": r.name,
                    "concurrency": r.concurrency,
                    **r.point.to_json(),
                }
                for r in self.rows
            ],
            "ratios": report.ratios(self.rows, REFERENCE),
            "cold_start_s": self.cold,
            "notes": self.notes,
            "failures": self.failures,
        }


def run(seconds: float, *, processes: int, peers: bool, batches: bool) -> Results:
    """Every section in turn; one that fails is reported and the others still run."""
    results = Results()
    rows, cold, notes = results.rows, results.cold, results.notes
    with tempfile.TemporaryDirectory(prefix="jetfaas-bench-") as scratch:
        workdir = Path(scratch)
        (workdir / "stack").mkdir()
        sections: list[tuple[str, Callable[[], str | None]]] = [
            (
                "http floor",
                lambda: rows.extend(http_floor(workdir, seconds, processes=processes)),
            ),
            (
                "nats floors",
                lambda: rows.extend(nats_floors(workdir, seconds, batches=batches)),
            ),
            (
                "jetfaas",
                lambda: jetfaas.measure(
                    workdir / "stack", seconds, rows, cold, processes=processes
                ),
            ),
        ]
        skipped = celery_unavailable() if peers else "left out by --no-peers"
        if skipped is None:
            sections.append(
                ("celery peer", lambda: rows.extend(celery_peer(workdir, seconds)))
            )
        else:
            notes.append(f"celery peer: skipped ({skipped})")

        for name, section in sections:
            try:
                note = section()
            except Exception as exc:
                log.exception("%s failed", name)
                results.failures.append(f"{name}: FAILED ({exc!r:.200})")
                continue
            if note:
                notes.append(note)

    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per point")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--batch-floor",
        action="store_true",
        help="also pull the JetStream floor in batches (it stalls; see docs)",
    )
    parser.add_argument(
        "--generator", choices=["wrk", "python"], help="default: wrk if on PATH"
    )
    args = parser.parse_args()
    if args.generator:
        loadgen.choose(args.generator)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # One line per request of the set-up clients would bury the progress lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    # The floor is served by as many processes as the gateway: FAAS_HTTP_WORKERS.
    processes = load_settings().http_workers
    info = report.machine()
    info["load generator"] = loadgen.generator()
    info["gateway processes"] = str(processes)
    results = run(
        args.seconds,
        processes=processes,
        peers=not args.no_peers,
        batches=args.batch_floor,
    )
    header = "\n".join(f"{key}: {value}" for key, value in info.items())
    sys.stdout.write(f"{header}\n\n{results.text()}\n")

    if args.json:
        document = {"machine": info, "seconds_per_point": args.seconds}
        document.update(results.to_json())
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    if results.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
