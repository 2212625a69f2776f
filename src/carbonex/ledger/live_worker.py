"""Entry point of the verify worker: reads a database URL on stdin, prints a LiveSummary as JSON.

Kept apart from `live_checks` so that `python -m` runs a module nothing imported before.
"""

from __future__ import annotations

import dataclasses
import sys

import orjson

from carbonex.ledger.live_checks import summarize_live_at


def main() -> None:
    summary = summarize_live_at(sys.stdin.read())
    sys.stdout.buffer.write(orjson.dumps(dataclasses.asdict(summary)))


if __name__ == "__main__":
    main()
