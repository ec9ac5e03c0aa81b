"""The disk cache: shared between processes, safe when 32 open it at once, never stores errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sorg.errors import ModelError
from sorg.model.backends import ProviderError
from sorg.model.cache import DiskCache
from sorg.model.client import ModelClient
from tests.model.helpers import make_request
from tests.subproc import HANG_S

REPO = Path(__file__).resolve().parents[2]


def test_cache_hit_after_live_call(tmp_path: Path, fake_backend) -> None:
    client = ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache")
    first = client.complete(make_request())
    second = ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache").complete(make_request())
    assert (first.source, second.source) == ("live", "cache")
    assert second.text == first.text and second.model_version == "fake-v1"
    assert len(fake_backend.calls) == 1
    client.close()


def test_errors_are_never_cached(tmp_path: Path, fake_backend) -> None:
    client = ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache", retries=0)
    fake_backend.faults = [ProviderError("boom", status=500)]
    with pytest.raises(ModelError):
        client.complete(make_request())
    assert DiskCache(tmp_path / "cache").get(__import__("sorg.model.identity").model.identity.request_key(make_request())) is None
    assert client.complete(make_request()).source == "live"


def test_cache_entry_of_another_model_is_not_used(tmp_path: Path, fake_backend) -> None:
    from sorg.model.identity import request_key

    req = make_request()
    DiskCache(tmp_path / "cache").set(request_key(req), {"model": "fake/other", "reply": {"text": "wrong"}})
    assert ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache").complete(req).source == "live"


_OPENER = textwrap.dedent(
    """
    import sys, time
    from sorg.model.backends import register_backend, RawReply
    from sorg.model.client import ModelClient
    from sorg.model.types import Request
    async def fake(req): return RawReply(text="from " + sys.argv[2], prompt_tokens=1, completion_tokens=1)
    register_backend("fake", fake)
    start = float(sys.argv[3])
    while time.time() < start:  # all processes open the cache in the same instant
        time.sleep(0.001)
    c = ModelClient(cassette_dir=None, cache_dir=sys.argv[1])
    sources = []
    for i in range(5):
        r = c.complete(Request(model="fake/m", messages=({"role": "user", "content": "q"},), sample=f"shared-{i}"))
        sources.append(r.source)
    own = c.complete(Request(model="fake/m", messages=({"role": "user", "content": "q"},), sample="own-" + sys.argv[2]))
    c.close()
    print(",".join(sources), own.source)
    """
)


def test_32_processes_share_one_cache_at_once(tmp_path: Path) -> None:
    import time

    cache_dir = tmp_path / "sorg" / "cache"
    start = time.time() + 2.5  # time for 32 interpreters to start
    procs = [
        subprocess.Popen([sys.executable, "-c", _OPENER, str(cache_dir), str(w), str(start)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(32)
    ]
    results = [p.communicate(timeout=HANG_S) for p in procs]
    failures = [(i, err[-800:]) for i, (p, (_, err)) in enumerate(zip(procs, results)) if p.returncode != 0]
    assert not failures, failures
    assert all("warn" not in err.lower() for _, err in results), [err for _, err in results if err][:1]
    outs = [out.split() for out, _ in results]
    assert all(own == "live" for _, own in outs)
    # every shared sample went live in at least one process and was a cache hit in most others
    shared = [o.split(",") for o, _ in outs]
    assert sum(s.count("cache") for s in shared) > 0
    # afterwards the cache holds all 5 shared + 32 own entries
    from sorg.model.identity import request_key
    from sorg.model.types import Request

    cache = DiskCache(cache_dir)
    for w in range(32):
        key = request_key(Request(model="fake/m", messages=({"role": "user", "content": "q"},), sample=f"own-{w}"))
        assert cache.get(key)["reply"]["text"] == f"from {w}"
    cache.close()


def test_open_retries_database_is_locked(tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    import diskcache

    real = diskcache.Cache
    attempts = []

    def flaky(*args, **kw):
        attempts.append(1)
        if len(attempts) < 3:
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kw)

    monkeypatch.setattr(diskcache, "Cache", flaky)
    cache = DiskCache(tmp_path / "c")
    cache.set("k", {"model": "m", "reply": {"text": "t"}})
    assert cache.get("k")["reply"]["text"] == "t" and len(attempts) == 3
    cache.close()


def test_unusable_cache_warns_and_never_fails_the_call(tmp_path: Path, fake_backend) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    client = ModelClient(cassette_dir=None, cache_dir=blocker)
    with pytest.warns(RuntimeWarning, match="disk cache"):
        assert client.complete(make_request()).source == "live"
