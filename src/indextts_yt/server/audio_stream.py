"""GET /api/jobs/{id}/audio: the narration as it is made, as one progressive WAV.

The response starts with a WAV header of unknown length, then carries each segment's audio
as soon as it exists, with exactly the pauses and fades of the assembled file (both go
through audio.Timeline), and stays open until the last segment — so an ``<audio>`` element
plays the narration while it is being made, and a client that connects late gets everything
from the start. For each segment in turn it takes:

- the segment file, if it is finished (read a block at a time); else
- the segment being rendered right now, chunk by chunk from the hub, as the engine yields
  them (a long first segment then starts playing after its first sentence); else
- it waits for the hub (or polls, for a job run by another process) and looks again.

A finished job is served as its file (seekable: Range requests work). Memory per client is
one block, whatever the narration's length.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..audio import (BlockResampler, PauseSettings, Timeline, iter_segment_blocks,
                     streaming_wav_header)
from ..audio.wav_writer import to_pcm16
from ..errors import JobNotFound
from ..jobs import store as st
from ..jobs.state import FINISHED, JobState
from ..jobs.events import LiveSegment, Subscription
from ..jobs.runner import job_sample_rate
from ..jobs.store import SegmentRow
from .context import StreamStoreDep, Studio, StudioDep
from .responses import file_response
from .routes_jobs import checked_id

router = APIRouter(tags=["progress and audio"])

POLL_S = 1.0  # look at the store this often even without hub news
_SILENCE = bytes(2 * 65536)


@router.get("/api/jobs/{job_id}/audio", summary="The narration as it is made (progressive WAV)",
            response_class=StreamingResponse,
            responses=file_response("audio/wav", description="a progressive WAV, or the "
                                    "finished file"))
async def job_audio(job_id: str, s: StudioDep, store: StreamStoreDep) -> Response:
    checked_id(job_id)

    def look():
        job = store.get_job(job_id)
        segs = store.segments(job_id)
        finished = job.state == JobState.DONE and Path(job.output_path).is_file() and all(
            seg.has_valid_audio for seg in segs)
        return job, segs, finished, job_sample_rate(seg.engine for seg in segs)

    job, segs, finished, rate = await run_in_threadpool(look)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if finished:
        return FileResponse(job.output_path, media_type="audio/wav", headers=headers)
    pauses = PauseSettings(**job.settings.pauses)
    # The stream reads with this request's Store: it stays open until the stream ends.
    return StreamingResponse(progressive_wav(s, store, job_id, len(segs), rate, pauses),
                             media_type="audio/wav", headers=headers)


async def progressive_wav(s: Studio, store: st.Store, job_id: str, total: int, rate: int,
                          pauses: PauseSettings) -> AsyncIterator[bytes]:
    with s.hub.subscribe(job_id) as sub:
        yield streaming_wav_header(rate)
        timeline = Timeline(rate, pauses)
        for idx in range(total):
            found = await _wait_for(s, store, sub, job_id, idx)
            if found is None:
                return  # failed, cancelled or deleted: end the stream where the audio ends
            seg, live = found
            silence = timeline.begin(seg.pause_after)
            while silence > 0:
                n = min(silence, len(_SILENCE) // 2)
                yield _SILENCE[: 2 * n]
                silence -= n
            if live is None:
                blocks = _file_pcm(timeline, Path(seg.audio_path), rate)
                while (data := await run_in_threadpool(next, blocks, None)) is not None:
                    yield data
            else:
                async for data in _live_pcm(timeline, live, rate, sub):
                    yield data
                if live.state != "done":
                    return  # the segment was aborted mid-way; what was sent cannot be unsent
            tail, _ = timeline.end()
            if len(tail):
                yield to_pcm16(tail)


def _file_pcm(timeline: Timeline, path: Path, rate: int) -> Iterator[bytes]:
    # Run a step at a time on the thread pool: file reads and resampling stay off the loop.
    for block in iter_segment_blocks(path, rate):
        out = timeline.push(block)
        if len(out):
            yield to_pcm16(out)


async def _live_pcm(timeline: Timeline, live: LiveSegment, rate: int,
                    sub: Subscription) -> AsyncIterator[bytes]:
    resampler = BlockResampler(live.sample_rate, rate)
    taken = 0
    while True:
        sub.drain()
        while taken < len(live.chunks):
            out = timeline.push(resampler.push(live.chunks[taken]))
            taken += 1
            if len(out):
                yield to_pcm16(out)
        if live.state != "running" and taken >= len(live.chunks):
            break
        await sub.get(timeout=POLL_S)
    out = timeline.push(resampler.finish())
    if len(out):
        yield to_pcm16(out)


async def _wait_for(s: Studio, store: st.Store, sub: Subscription, job_id: str, idx: int,
                    ) -> tuple[SegmentRow, LiveSegment | None] | None:
    """Segment ``idx`` once its audio can be streamed (file, or live render), or None if it
    never will be (the job failed, was cancelled or deleted)."""

    def look():
        return store.segment(job_id, idx), store.job_state(job_id)

    while True:
        sub.drain()  # anything after this point wakes the wait below
        try:
            seg, state = await run_in_threadpool(look)
        except JobNotFound:
            return None
        if seg.has_valid_audio:
            return seg, None
        live = s.hub.live(job_id)
        if live is not None and live.idx == idx and live.key == seg.key and live.state == "running":
            return seg, live
        if state in FINISHED:
            return None
        await sub.get(timeout=POLL_S)

