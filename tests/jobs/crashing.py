"""``python -m tests.jobs.crashing <fika arguments>``: the fika command, stopping at a fault point.

With FIKA_CRASH_AT=<point> (see core/faults.py) the process, on reaching the point, writes the
file FIKA_CRASH_MARK and sleeps until the test kills it with SIGKILL.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from core import faults


def _stop_here(point: str) -> None:
    Path(os.environ["FIKA_CRASH_MARK"]).write_text(point)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    if os.environ.get("FIKA_CRASH_AT"):
        faults.install(os.environ["FIKA_CRASH_AT"], _stop_here)
    from fika.cli import cli

    sys.exit(cli.main(sys.argv[1:], prog_name="fika"))
