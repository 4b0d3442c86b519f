"""indextts_yt.atomic: the one way the studio writes a file (temp, fsync, rename, dir fsync)."""

from __future__ import annotations

import os

import pytest

from indextts_yt import atomic
from indextts_yt.atomic import link_or_copy_atomic, temp_path, write_bytes_atomic


def test_write_bytes_replaces_the_file_and_leaves_no_temp(tmp_path):
    final = tmp_path / "a.bin"
    final.write_bytes(b"old")
    write_bytes_atomic(final, b"new")
    assert final.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    final = tmp_path / "a.bin"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_file(final) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert final.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_link_or_copy_links_where_it_can(tmp_path):
    source, final = tmp_path / "src.wav", tmp_path / "dst.wav"
    source.write_bytes(b"audio")
    temp_path(final).write_bytes(b"debris of an earlier try")  # os.link would refuse it
    link_or_copy_atomic(source, final)
    assert final.read_bytes() == b"audio"
    assert os.path.samefile(source, final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst.wav", "src.wav"]


def test_link_or_copy_copies_where_links_fail(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError("cross-device link")

    monkeypatch.setattr(atomic.os, "link", no_links)
    source, final = tmp_path / "src.wav", tmp_path / "dst.wav"
    source.write_bytes(b"audio" * 10_000)
    final.write_bytes(b"old")
    link_or_copy_atomic(source, final)
    assert final.read_bytes() == source.read_bytes()
    assert not os.path.samefile(source, final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst.wav", "src.wav"]


def test_link_or_copy_of_a_missing_source_keeps_the_old_file(tmp_path):
    final = tmp_path / "dst.wav"
    final.write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        link_or_copy_atomic(tmp_path / "gone.wav", final)
    assert final.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst.wav"]
