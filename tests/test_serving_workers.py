"""``talentloop serve --workers 2``: real uvicorn workers on loopback, each on its own SO_REUSEPORT socket.

Keep-alive connections opened together reach both workers (a shared socket gave one worker all of them in
some tries); SIGTERM stops every worker; a port held by another program is a clear error.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from features.settings import Settings
from tests.serving_workspace import Workspace, shared_workspace

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
TALENTLOOP = Path(sys.executable).with_name("talentloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, dict]:
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


@pytest.fixture()
def workspace(tmp_path, tmp_path_factory) -> Workspace:
    shutil.copytree(shared_workspace(tmp_path_factory) / "home", tmp_path / "home")
    return Workspace(Settings(home=tmp_path / "home"), tmp_path)


def test_two_workers_share_the_port_and_the_connections(workspace):
    port = _free_port()
    env = {**os.environ, "TALENTLOOP_HOME": str(workspace.settings.home), "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen([str(TALENTLOOP), "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, ready = time.time() + 240, set()
        while time.time() < deadline and len(ready) < 2:  # both workers answer /readyz
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                status, _ = _get(conn, "/readyz")
                if status == 200:
                    ready.add(_get(conn, "/healthz")[1]["worker"])
                conn.close()
            except OSError:
                pass
            time.sleep(0.3)
        assert server.poll() is None and ready, server.stdout.read1().decode() if server.poll() is not None else ""
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(24)]
        for c in conns:
            c.connect()  # all opened together, as a client pool does
        workers = [_get(c, "/healthz")[1]["worker"] for c in conns]
        for c in conns:  # a keep-alive connection stays with its worker
            assert _get(c, "/healthz")[1]["worker"] == workers[conns.index(c)]
            c.close()
        assert len(set(workers)) == 2, workers  # 24 connections on one of two workers: p = 1.2e-7 by chance
        assert min(workers.count(w) for w in set(workers)) >= 3, workers
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        with pytest.raises(OSError):
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)


def test_a_port_held_by_another_program_is_a_clear_error(workspace):
    env = {**os.environ, "TALENTLOOP_HOME": str(workspace.settings.home)}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = subprocess.run([str(TALENTLOOP), "serve", "--port", str(port), "--workers", "2"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stdout + done.stderr
