"""How good the queue's ETAs are: predicted when a batch is queued vs when each job is done.

A fresh studio renders one warm-up script (so it has measured its speed), then a batch of
four Pooh excerpts of different lengths is queued on the embedded engine and run in queue
order, as the server's worker runs it. For each job: the ETA the queue showed at queueing
time, the real time from then until the job was done, and their ratio.

    .venv/bin/python bench/queue_eta.py

Prints a table and writes the "Queue ETAs" section of bench/RESULTS.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from results import write_section  # noqa: E402

LENGTHS = (600, 2400, 1200, 4000)  # characters per script, in queue order


def main() -> None:
    from conftest import POOH

    from indextts_yt.jobs import store as st
    from indextts_yt.jobs.batch import Outputs, Script, queue_batch
    from indextts_yt.jobs.queue import queue_view
    from indextts_yt.jobs.runner import run_job
    from indextts_yt.jobs.service import JobRequest, create_job
    from indextts_yt.jobs.store import Store
    from indextts_yt.presets import PresetSettings

    book = POOH.read_text(encoding="utf-8")
    book = book[book.index("If you happen to have read"):]

    def excerpt(start: int, chars: int) -> str:
        cut = book.find("\n\n", start + chars)
        return book[start:cut]

    store = Store(Path(tempfile.mkdtemp(prefix="bench-queue-")))
    warm, _ = create_job(store, JobRequest(text=excerpt(0, 1500), engine="piper"))
    for _ in run_job(store, warm.id):
        pass

    offset, scripts = 2000, []
    for k, chars in enumerate(LENGTHS):
        scripts.append(Script(f"part{k + 1}", f"part {k + 1}", excerpt(offset, chars)))
        offset += chars + 500
    _, jobs = queue_batch(store, scripts, PresetSettings(engine="piper"), Outputs(None))
    queued_at = time.monotonic()
    predicted = {e.job.id: e.eta_s for e in queue_view(store)}
    actual = {}
    for job in jobs:
        for _ in run_job(store, job.id, from_states=(st.QUEUED,)):
            pass
        actual[job.id] = time.monotonic() - queued_at

    rows = ["| job | characters | ETA at queueing (s) | done after (s) | ETA / real |",
            "| --- | --- | --- | --- | --- |"]
    for job in jobs:
        chars = sum(len(s.text) for s in store.segments(job.id))
        rows.append(f"| {job.title} | {chars} | {predicted[job.id]:.1f} | "
                    f"{actual[job.id]:.1f} | {predicted[job.id] / actual[job.id]:.2f} |")
    table = "\n".join(rows)
    print(table)
    path = write_section("Queue ETAs", [
        "`bench/queue_eta.py`: a fresh studio renders one warm-up script (~1,500 characters) "
        "on the embedded engine, then a batch of four Pooh excerpts is queued and run in queue "
        "order. The ETA is what `GET /api/queue` / `indextts-yt queue` showed when the batch was "
        "queued (measured compute seconds per character x characters left, summed over the "
        "jobs ahead). The queue re-estimates after every segment, so what it shows tightens as "
        "the batch runs; the figures here are the first, least informed estimate.", "", table])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
