"""Workers on Ray with a cloning engine: IndexTTS-2.5 on its tiny random checkpoint, two
actors on a real local Ray instance. A cloned voice is analysed once for the cluster's
machine (the first take's actor analyses it into the shared disk cache; the voice's other
takes wait for it), and each actor renders from the clip's bytes it was sent."""

from __future__ import annotations

import pytest

from indextts_yt.clips import ClipStore
from indextts_yt.engines import registry
from indextts_yt.engines.indextts_common import LoadOptions
from indextts_yt.jobs import service
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.store import Store
from indextts_yt.paths import ENV_CACHE_DIR
from indextts_yt.settings import CheckSettings, JobSettings

from fixtures.tiny_indextts import build_indextts25
from indextts_util import FAST, piper_clip

ray = pytest.importorskip("ray", reason="the cluster extra (Ray) is part of the test install")
pytest.importorskip("indextts25", reason="the indextts25 extra is part of the test install")

from indextts_yt.jobs.cluster import WorkerPool  # noqa: E402

ENGINE = "indextts2.5"


@pytest.mark.timeout(300)
def test_a_cloned_voice_is_analysed_once_across_workers(tmp_path_factory, monkeypatch):
    model = build_indextts25(tmp_path_factory.mktemp("tiny25"))
    # The actors start with this environment: the analysis cache is the machine's one.
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
    data = tmp_path_factory.mktemp("data")
    clip = ClipStore(data).add_file(piper_clip(data / "voice.wav", 3.0))
    registry.configure_engine(ENGINE, LoadOptions(checkpoints=model, device="cpu"))
    pool = WorkerPool(2)
    try:
        store = Store(data)
        job, _ = service.create_job(store, service.JobRequest(
            text="\n\n".join(f"Paragraph {n} of four." for n in range(1, 5)),
            settings=JobSettings(engine=ENGINE, voice=clip.id, options=FAST,
                                 checks=CheckSettings(mode="off"))))
        events = list(run_job(store, job.id, farm=pool.farm))
        assert events[-1].kind == "finished", events[-1]
        assert all(s.has_valid_audio for s in store.segments(job.id))
        # Speaker and emotion of the one clip: two analyses in all, not two per actor.
        assert sum(ray.get([actor.analyses.remote() for actor in pool.actors])) == 2
        # Both actors rendered (each takes two at a time: four takes reach both).
        assert all(ray.get([actor.rendered.remote() for actor in pool.actors]))
    finally:
        pool.close()
        registry.configure_engine(ENGINE, LoadOptions())
