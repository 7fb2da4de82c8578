"""A hub process for the scheduling tests: ``lakemesh serve`` with the clock moved to a given
time at a given real moment (and running on from there at the real pace), the one thing tests
may fake. Every process of a test gets the same pair, so their clocks agree as NTP would make
real hosts' clocks agree.

    python -m tests.scheduling.hub_process HOME 2026-01-01T03:00:01+00:00 1767236401.5 PORT
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from lakemesh import clock
from lakemesh.cli.main import main


def run(home: str, start: str, at: str, port: str) -> None:
    origin, began = datetime.fromisoformat(start), float(at)
    clock.now = lambda: origin + timedelta(seconds=time.time() - began)  # type: ignore[assignment]
    sys.argv = ["lakemesh", "--home", home, "serve", "--port", port]
    main()


if __name__ == "__main__":
    run(*sys.argv[1:5])
