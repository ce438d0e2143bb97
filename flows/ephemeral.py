"""No temporary Prefect server outlives `bcf`.

With no server configured, Prefect starts a temporary one (uvicorn, a child process) and stops it from an atexit
hook, which a killed `bcf` (SIGKILL, the out-of-memory killer, a SIGTERM from a scheduler) never runs: the server
was left serving on its port. Here the server's command is wrapped so the server watches its parent and stops when
the parent is gone, however the parent ended (a parent-death signal would fire when the *thread* that started the
server ends, and Prefect may start it from a short-lived thread)."""

from __future__ import annotations

import subprocess
from types import ModuleType
from typing import Any

# Run in the server process: a daemon thread polls the parent; when it is gone (the child is re-parented), SIGTERM
# lets uvicorn shut down, and a hard exit follows if it has not within 10 s. Then uvicorn runs as `-m uvicorn`.
WATCHED = """
import os, runpy, signal, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
    os._exit(1)
threading.Thread(target=watch, daemon=True, name="bcf-parent-watch").start()
sys.argv = ["uvicorn", *sys.argv[2:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


class _Subprocess(ModuleType):
    """The subprocess module as Prefect's server module sees it: Popen of `python -m uvicorn` is watched."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args: Any, *rest: Any, **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802 - subprocess's own name
        import os

        if isinstance(args, list) and args[1:3] == ["-m", "uvicorn"]:
            args = [args[0], "-c", WATCHED, str(os.getpid()), *args[3:]]
        return subprocess.Popen(args, *rest, **kwargs)


def server_dies_with_us() -> None:
    """Before a flow is called: if Prefect would start a temporary server, that server will stop with this process."""
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return  # a configured server: not ours to stop
    from prefect.server.api import server

    if not isinstance(server.subprocess, _Subprocess):
        server.subprocess = _Subprocess()  # type: ignore[assignment]
