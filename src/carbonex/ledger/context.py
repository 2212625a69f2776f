"""What a handler sees while deciding: the cached state, the catalog and today's date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from carbonex.catalog import Catalog
from carbonex.ledger.effects import Effect
from carbonex.ledger.model import Block
from carbonex.ledger.state import LedgerState


@dataclass(slots=True)
class Context:
    state: LedgerState
    catalog: Catalog
    today: dt.date
    effects: list[Effect] = field(default_factory=list)

    def emit_block(self, block: Block) -> None:
        self.effects.append(self.state.put_block(block))

    def emit(self, effect: Effect) -> None:
        """Record an effect and apply it to the cache at once, so later steps see it."""
        self.effects.append(effect)
        self.state.apply(effect)
