"""Several uvicorn workers, each accepting connections on its own ``SO_REUSEPORT`` socket.

uvicorn's ``--workers`` shares one listening socket among its workers, and the worker that wakes first
accepts a whole burst of new connections. The keep-alive connections of a client pool (an HR system, a load
balancer) then pile onto one worker while the other idles: 32 connections opened together split 32/0, 31/1,
27/5, 24/8 and 22/10 over two workers in five tries here, and throughput at saturation halves when it
happens. With a socket per worker bound with ``SO_REUSEPORT``, the kernel spreads new connections over the
workers by their address hash.

:func:`serve` starts the workers (spawned, so each imports and loads the models itself), restarts one that
dies, stops them all on SIGINT / SIGTERM (uvicorn's graceful shutdown: in-flight requests finish) and gives up
when workers keep failing at start-up. One worker, or a platform without ``SO_REUSEPORT``, is plain
``uvicorn.run``. A worker listens before its models are loaded, so a connection the kernel hands to a worker
that is (re)starting waits for its start-up (seconds) rather than going to another worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time

log = logging.getLogger("talentloop.serving")
STARTUP_SECONDS = 60.0  # a worker that exits sooner after its start failed at start-up
MAX_STARTUP_FAILURES = 3


def serve(app: str, host: str, port: int, workers: int = 1, log_level: str = "warning",
          factory: bool = True) -> int:
    """Serve ``app`` (an import string) until SIGINT / SIGTERM; returns the exit code."""
    import uvicorn

    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, factory=factory, host=host, port=port, workers=workers, log_level=log_level,
                    access_log=False)
        return 0
    listening_socket(host, port).close()  # the port is free (or ours to share): fail here, not in N workers
    context = multiprocessing.get_context("spawn")
    args = (app, host, port, log_level, factory)

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_worker, args=args, name="talentloop-worker", daemon=False)
        process.start()
        return process, time.monotonic()

    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopping.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    failures, code = 0, 0
    try:
        while not stopping:
            for i, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                quick = time.monotonic() - started < STARTUP_SECONDS
                failures += quick
                log.warning("worker %s exited with code %s%s", process.pid, process.exitcode,
                            " during start-up" if quick else "; starting another")
                if failures >= MAX_STARTUP_FAILURES:
                    log.error("workers keep failing at start-up: stopping")
                    stopping.append(0)
                    code = 1
                    break
                running[i] = start()
            time.sleep(0.2)
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn stops accepting and lets in-flight requests finish
        for process, _ in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, listening."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(app: str, host: str, port: int, log_level: str, factory: bool) -> None:  # pragma: no cover - a child
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_DFL)  # uvicorn installs its own handlers in Server.run
    _die_with_parent()
    sock = listening_socket(host, port)
    config = uvicorn.Config(app, factory=factory, host=host, port=port, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:  # pragma: no cover - a child
    """On Linux, ask the kernel to send this worker SIGTERM when the parent dies, even by SIGKILL (otherwise the
    workers of a killed ``talentloop serve`` keep the port and the workspace's files open)."""
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)
