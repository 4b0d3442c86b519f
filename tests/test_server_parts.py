"""The server's building blocks on their own: fair engine lock, stream header, host checks,
and the event hub's thread-to-asyncio handoff."""

from __future__ import annotations

import asyncio
import io
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from indextts_yt.audio import StreamEncoder, Timeline, streaming_wav_header
from indextts_yt.engines.fair_lock import FairLock
from indextts_yt.jobs.events import PROGRESS, SNAPSHOT, EventHub
from indextts_yt.jobs.runner import ProgressEvent
from indextts_yt.server.security import _host_name, is_loopback


def test_fair_lock_serves_waiters_in_arrival_order():
    lock = FairLock()
    order: list[int] = []
    lock.acquire()

    def worker(i: int) -> None:
        with lock:
            order.append(i)

    threads = []
    for i in range(5):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        while lock.waiting() < i + 1:  # queued before the next one starts
            time.sleep(0.005)
    # The holder releases and immediately asks again: it must queue behind the others.
    lock.release()
    with lock:
        order.append(99)
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4, 99]
    assert not lock.locked()
    assert lock.acquire(timeout=0.01)
    assert not lock.acquire(timeout=0.05)  # held (not reentrant): times out
    lock.release()


def test_streaming_wav_header_decodes_up_to_where_the_bytes_end():
    pcm = (np.sin(np.arange(22050) / 5) * 10000).astype("<i2").tobytes()
    samples, rate = sf.read(io.BytesIO(streaming_wav_header(22050) + pcm), dtype="int16")
    assert rate == 22050 and len(samples) == 22050


def test_timeline_matches_for_any_block_size():
    rng = np.random.default_rng(1)
    segments = [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in (5000, 300, 12000)]
    pauses = ["sentence", "clause", "paragraph"]

    def lay_out(block: int) -> np.ndarray:
        tl = Timeline(22050)
        out = []
        for seg, pause in zip(segments, pauses):
            out.append(np.zeros(tl.begin(pause), np.float32))
            for i in range(0, len(seg), block):
                out.append(tl.push(seg[i:i + block]))
            out.append(tl.end()[0])
        return np.concatenate(out)

    a, b = lay_out(7), lay_out(4096)
    assert np.array_equal(a, b)
    assert a[0] == 0 and a[-1] == 0  # faded edges
    assert len(a) == sum(map(len, segments)) + round(0.35 * 22050) + round(0.12 * 22050)


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "flac", "opus", "aac"])
def test_stream_encoder_emits_bytes_as_it_goes(fmt):
    enc = StreamEncoder(fmt, 22050)
    out = [enc.header()]
    block = (np.sin(np.arange(22050) / 7) * 0.3).astype(np.float32)
    for _ in range(4):
        out.append(enc.encode(block))
    out.append(enc.finish())
    assert sum(len(b) for b in out[:3]) > 0  # something before the end
    assert sum(len(b) for b in out) > 1000


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                       ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                       ("::", False), ("10.0.0.1", False), ("myhost", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_host_header_names():
    assert _host_name("127.0.0.1:8765") == "127.0.0.1"
    assert _host_name("[::1]:8765") == "::1"
    assert _host_name("LOCALHOST") == "localhost"
    assert _host_name("evil.example:80") == "evil.example"


def test_event_hub_hands_thread_events_to_the_loop():
    hub = EventHub()

    async def main() -> list:
        sub = hub.subscribe("job")
        event = ProgressEvent(kind="started", job_id="job", state="running", index=None,
                              total=3, done=0, text="")

        def from_a_thread() -> None:
            hub.publish(event)
            hub.notify("job")
            hub.publish(ProgressEvent(kind="started", job_id="other", state="running",
                                      index=None, total=1, done=0, text=""))

        threading.Thread(target=from_a_thread).start()
        got = [await sub.get(timeout=5), await sub.get(timeout=5), await sub.get(timeout=0.2)]
        sub.close()
        return got

    first, second, third = asyncio.run(main())
    assert first[0] == PROGRESS and first[1].kind == "started"
    assert second == (SNAPSHOT, None)
    assert third is None  # the other job's event is not ours
    assert hub.latest("job").kind == "started"
