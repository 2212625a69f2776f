"""The ledger's model-based machine with one of its two ledgers a client of a writer process
(`carbonex.ledger.writer`, served from a thread here): every command that ledger submits goes
over the socket and is decided in the writer's group commit, and must come back exactly as the
model predicts, with the same tables, invariants and verify as when submitted directly."""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from carbonex.ledger import Ledger
from carbonex.ledger.writer import WriterServer
from tests.databases import OnPostgres
from tests.ledger.support import hypothesis_settings
from tests.ledger.test_ledger_stateful import LedgerMachine

WRITER_START_SECONDS_MAX = 30.0


class WriterLedgerMachine(LedgerMachine):
    def __init__(self) -> None:
        super().__init__()
        directory = tempfile.mkdtemp(prefix="cx-", dir="/tmp")  # socket paths must stay short
        self.socket_path = str(Path(directory) / "w.sock")
        ready = threading.Event()
        self.servers: list[WriterServer] = []
        self.serving = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.serving.start()
        if not ready.wait(WRITER_START_SECONDS_MAX):
            raise RuntimeError("the writer did not start")
        self.ledgers[0].close()
        self.ledgers[0] = Ledger.open(self.url, clock=self.clock, writer_socket=self.socket_path)

    def _serve(self, ready: threading.Event) -> None:
        with Ledger.open(self.url, clock=self.clock) as ledger:
            self.servers.append(WriterServer(ledger, self.socket_path))
            self.servers[0].serve(ready)

    def teardown(self) -> None:
        try:
            for server in getattr(self, "servers", []):
                assert server.commands > 0, "nothing went through the writer"
                server.stop.set()
                with socket.socket(socket.AF_UNIX) as wake, contextlib.suppress(OSError):
                    wake.connect(self.socket_path)  # the serving loop sees `stop` at once
            if hasattr(self, "serving"):
                self.serving.join(WRITER_START_SECONDS_MAX)
        finally:
            super().teardown()


class PostgresWriterLedgerMachine(OnPostgres, WriterLedgerMachine):
    pass


TestLedgerThroughAWriterOnSqlite = WriterLedgerMachine.TestCase
TestLedgerThroughAWriterOnSqlite.settings = hypothesis_settings("stateful-writer")

TestLedgerThroughAWriterOnPostgres = pytest.mark.postgres(PostgresWriterLedgerMachine.TestCase)
TestLedgerThroughAWriterOnPostgres.settings = hypothesis_settings("stateful-writer")
