"""Waiting for a local server to start (a Prefect server, moto's S3): the integration tests and the scale-out demo."""

from __future__ import annotations

import time
import urllib.request


def wait_for(url: str, seconds: int = 120) -> None:
    """Until `url` answers (a server starting), or a TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local server we started
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")
