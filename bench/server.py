"""Server benchmark: time to first audio after POST /api/jobs, and server memory while three
clients stream a narration at once (30-minute script against a 1-minute one).

Run:  .venv/bin/python bench/server.py   (a few minutes on a 2-core machine)
Prints a table and writes the "Server" section of bench/RESULTS.md.

Everything runs against a real `indextts-yt serve` process on a loopback port, the default
engine, and fresh data folders (so no segment is served from an earlier run):

- first audio: from sending POST /api/jobs (a 30-minute script) to the first bytes of PCM
  (past the 44-byte WAV header) at a client that asked for GET /api/jobs/{id}/audio right
  after the POST returned. Best and worst of several rounds; each round's job is deleted so
  the next one renders from scratch. Target: under 1 s.
- memory: the server process's peak RSS (VmHWM, the kernel's own high-water mark) over a
  run in which three clients stream the whole narration at once, for a 30-minute and for a
  1-minute script, each in its own server process. Target: the same for both (it must not
  grow with the narration's length). RSS is also sampled during the long run.
- the server's own share: the same peak for a bare engine process that just synthesizes the
  same segments in the same order (no server, no store, no files), subtracted. The engine
  (onnxruntime) reaches its peak on the single most demanding sentence — its memory grows
  with a sentence's phoneme count, not with the script's length — so a longer script that
  happens to contain a heavier sentence peaks higher in any process; the difference shows
  what the server itself adds, which must be the same for both lengths.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from results import write_section

HERE = Path(__file__).resolve().parent
BOOK = HERE.parent.parent / "shared" / "texts" / "winnie-the-pooh.txt"
WAV_HEADER = 44


def book_excerpt(n_chars: int) -> str:
    text = BOOK.read_text(encoding="utf-8")
    text = text[text.index("If you happen to have read"):]
    cut = text.find("\n\n", n_chars)
    return text[: cut if cut > 0 else len(text)]


class Server:
    """`indextts-yt serve` in a subprocess on a free loopback port."""

    def __init__(self, data_dir: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "indextts_yt", "serve", "--port", str(self.port),
             "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + 120
        while True:  # until the worker has warmed the engine up
            try:
                if httpx.get(self.base + "/api/health", timeout=2).json().get("ready"):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.1)

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return self.ps.memory_info().rss / 2**20

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def first_audio(server: Server, text: str) -> tuple[float, float]:
    """Seconds from sending the POST to (the first byte, the first PCM byte) of the stream."""
    with httpx.Client(base_url=server.base, timeout=120) as http:
        t0 = time.perf_counter()
        job = http.post("/api/jobs", json={"text": text}).json()
        first_byte = first_pcm = None
        got = 0
        with http.stream("GET", f"/api/jobs/{job['id']}/audio") as r:
            for chunk in r.iter_raw():
                now = time.perf_counter() - t0
                if first_byte is None and chunk:
                    first_byte = now
                got += len(chunk)
                if got > WAV_HEADER:
                    first_pcm = now
                    break
        http.delete(f"/api/jobs/{job['id']}")  # cancel; the next round renders from scratch
    return first_byte, first_pcm


def stream_to_clients(server: Server, text: str, clients: int = 3,
                      sample: bool = False) -> dict:
    """Start a job, stream its audio to ``clients`` readers at once until it is done."""
    http = httpx.Client(base_url=server.base, timeout=600)
    job = http.post("/api/jobs", json={"text": text}).json()
    received = [0] * clients
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            with httpx.Client(base_url=server.base, timeout=600) as c:
                with c.stream("GET", f"/api/jobs/{job['id']}/audio") as r:
                    for chunk in r.iter_raw():
                        received[i] += len(chunk)  # counted, not kept
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    samples = []
    while any(t.is_alive() for t in threads):
        if sample:
            state = http.get(f"/api/jobs/{job['id']}").json()
            samples.append((state["done"] / max(state["total"], 1), server.rss_mb()))
        time.sleep(0.5)
    for t in threads:
        t.join()
    while (state := http.get(f"/api/jobs/{job['id']}").json())["state"] not in (
            "done", "failed", "cancelled"):
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    http.close()
    if errors:
        raise errors[0]
    return {"job": state, "received": received, "wall_s": wall, "samples": samples}


BARE_ENGINE = """
import sys
from indextts_yt.engines import registry
from indextts_yt.jobs.plan import Choice, plan
text = sys.stdin.read()
engine = registry.get_engine("piper")
conditioning = engine.prepare_voice("joe")
for seg in plan(text, Choice()):
    for _ in engine.synthesize(seg.text, conditioning, seg.settings):
        pass
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) / 1024)
"""


def bare_engine_peak_mb(text: str) -> float:
    """Peak RSS of a process that only runs the engine over the same segments."""
    out = subprocess.run([sys.executable, "-c", BARE_ENGINE], input=text, text=True,
                         capture_output=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_at(samples: list[tuple[float, float]], fraction: float) -> float:
    after = [rss for done, rss in samples if done >= fraction]
    return after[0] if after else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="first-audio rounds")
    parser.add_argument("--long-chars", type=int, default=25_500, help="the 30-minute script")
    parser.add_argument("--short-chars", type=int, default=850, help="the 1-minute script")
    args = parser.parse_args()

    long_text = book_excerpt(args.long_chars)
    short_text = book_excerpt(args.short_chars)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "long")
        try:
            firsts = [first_audio(server, long_text) for _ in range(args.rounds)]
            long_run = stream_to_clients(server, long_text, sample=True)
            long_peak = server.peak_rss_mb()
        finally:
            server.stop()
        server = Server(Path(tmp) / "short")
        try:
            short_run = stream_to_clients(server, short_text)
            short_peak = server.peak_rss_mb()
        finally:
            server.stop()
    long_engine = bare_engine_peak_mb(long_text)
    short_engine = bare_engine_peak_mb(short_text)

    pcm = [p for _, p in firsts]
    byte = [b for b, _ in firsts]
    def minutes(run: dict) -> float:  # the narration as streamed: speech and pauses
        return (run["received"][0] - WAV_HEADER) / 2 / 22050 / 60

    long_min, short_min = minutes(long_run), minutes(short_run)
    rows = [
        ("first audio bytes after POST /api/jobs (30-min script), median",
         f"{statistics.median(pcm):.2f} s", "< 1 s"),
        ("  best / worst of rounds", f"{min(pcm):.2f} / {max(pcm):.2f} s", ""),
        ("  first byte (WAV header), median", f"{statistics.median(byte):.3f} s", ""),
        (f"server peak RSS, 3 clients streaming a {long_min:.1f}-min narration",
         f"{long_peak:.0f} MB", "report"),
        (f"server peak RSS, 3 clients streaming a {short_min:.1f}-min narration",
         f"{short_peak:.0f} MB", "report"),
        ("  growth, long over short", f"{long_peak - short_peak:+.0f} MB", ""),
        ("bare engine peak RSS, same segments, long / short",
         f"{long_engine:.0f} / {short_engine:.0f} MB", ""),
        ("server's own share (server − bare engine), long / short",
         f"{long_peak - long_engine:.0f} / {short_peak - short_engine:.0f} MB", "equal"),
        ("  growth of the server's own share, long over short",
         f"{(long_peak - long_engine) - (short_peak - short_engine):+.0f} MB", "≈ 0"),
        ("  RSS at 10% / 50% / 90% of the long narration",
         " / ".join(f"{rss_at(long_run['samples'], f):.0f}" for f in (0.1, 0.5, 0.9)) + " MB", ""),
        ("  long narration rendered and streamed in", f"{long_run['wall_s']:.0f} s "
         f"(RTF {long_run['wall_s'] / (long_min * 60):.3f})", ""),
        ("  bytes received by each client", " / ".join(f"{n / 2**20:.1f}" for n in
                                                       long_run["received"]) + " MiB", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>22}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>22}  {target}")
    if len(set(long_run["received"])) != 1:
        print("warning: the clients did not all receive the same number of bytes")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    body = [
        f"`bench/server.py` on {machine}, the default engine (piper), a real `indextts-yt serve`"
        " process on loopback.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        *[f"| {name.strip()} | {value} | {target} |" for name, value, target in rows],
        "",
        f"First audio is measured from sending the POST of a {len(long_text):,}-character script"
        f" to the first PCM byte (after the 44-byte WAV header) at a client that opened"
        f" `GET /api/jobs/{{id}}/audio` right after; {args.rounds} rounds, each job deleted so"
        " the next renders from scratch. It is the short lead-in segment, streamed chunk by"
        " chunk from the engine before its file is even written. Peak RSS is the kernel's"
        " high-water mark (VmHWM) of the server process over the whole run, each script in"
        " its own server. The bare engine is a process that only runs piper over the same"
        " segments in the same order: onnxruntime's peak is set by the single heaviest"
        " sentence (its memory grows with a sentence's phoneme count; here one sentence near"
        " the end of the long script adds about 100 MB, in any process), so the server's own"
        " share — its peak minus the bare engine's — is what must not grow with length.",
    ]
    write_section("Server", body)


if __name__ == "__main__":
    main()
