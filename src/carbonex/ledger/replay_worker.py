"""Entry point of the verify worker: reads a database URL on stdin, replays that ledger's journal
and prints a ReplaySummary as JSON.

Kept apart from `verify` so that `python -m` runs a module nothing imported before.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys

import orjson

from carbonex.ledger.verify import summarize_replay_at


def main() -> None:
    # The replay builds millions of objects that are never cyclic garbage (see verify_store).
    gc.disable()
    summary, _replayed = summarize_replay_at(sys.stdin.read().strip())
    sys.stdout.buffer.write(orjson.dumps(dataclasses.asdict(summary)))
    sys.stdout.buffer.flush()
    # Exit without freeing the replayed state object by object (about half a second for a
    # million blocks): the operating system takes the whole heap back at once.
    os._exit(0)


if __name__ == "__main__":
    main()
