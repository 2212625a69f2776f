"""Split a verified issuance into the proponent's share and the programme's deductions.

Rounding rule (ARCHITECTURE.md "Numbers"): a deduction is owed on the project's gross issued
quantity so far, not on each issuance alone. After earlier issuances of P in all, on which D units
of a deduction were owed and d taken, an issuance of q owes D + round((P + q) x rate) -
round(P x rate) in all and takes that less d, where round is floor for "down" (share of proceeds:
never more than the rate, never a fraction of a unit) and ceiling for "up" (OMGE, "at least 2%").
Rounded per issuance, twenty issuances of 19 t would each owe floor(0.95) = 0 of a 5% share where
one of 380 t owes 19: splitting a report would avoid the deduction. The rate in force applies to
the new tonnes only: a rate raised from 5% to 10% after 1,000 t owes 10% of the next 100 t, not
5% more of the first 1,000 as well (the owed total D is recorded with each issuance for that;
before it was recorded, D is round(P x rate), what a rate that never changed owed). The buffer is
withheld per issuance, rounded up (the conservative side protects the pool; splitting only adds
to it). The proponent receives q minus the deductions, so the parts always add up to q exactly; a
deduction larger than what an issuance has left (a tiny one, when several roundings fall due at
once) takes what is left, and the rest falls due with the next issuance, since what is taken
follows what is owed. Products are taken in exact rational arithmetic (`Fraction`), so no
quantity is too large to round correctly.

Refusals here are input errors a service checks before calling (an unencoded buffer rule, a
missing or excessive risk rating); they raise `DeductionError` carrying a stable code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from carbonex.catalog.standards import (
    DEDUCTION_CODES,
    OMGE,
    SHARE_OF_PROCEEDS,
    BufferRule,
    Deduction,
)

ZERO = Decimal(0)


class DeductionError(ValueError):
    """An issuance cannot be split under the given rules; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class IssuedBefore:
    """What a project's earlier issuances came to: their gross quantity, what each deduction
    (by code) took from them and what each owed in all under the rates then in force (a code
    missing: it did not apply). `owed_t` None: issuances recorded before the owed totals were,
    taken as owing what the rates in force owe on `quantity_t`."""

    quantity_t: int = 0
    deducted_t: Mapping[str, int] = field(default_factory=dict)
    owed_t: Mapping[str, int] | None = None


NOTHING_BEFORE = IssuedBefore()


@dataclass(frozen=True, slots=True)
class IssuanceSplit:
    quantity_t: int
    to_proponent_t: int
    share_of_proceeds_t: int
    omge_cancelled_t: int
    buffer_t: int
    owed_t: Mapping[str, int] = field(default_factory=dict)
    """What each deduction (by code) has owed in all, this issuance included."""

    @property
    def deducted_t(self) -> dict[str, int]:
        """What each deduction took, by its code."""
        return {SHARE_OF_PROCEEDS: self.share_of_proceeds_t, OMGE: self.omge_cancelled_t}


def apply_rate(quantity_t: int, rate: Decimal, rounding: str) -> int:
    """Whole units of quantity_t x rate, rounded down ("down") or up ("up"), exactly."""
    product = quantity_t * Fraction(rate)
    if rounding == "down":
        return product.numerator // product.denominator
    if rounding == "up":
        return -(-product.numerator // product.denominator)
    raise ValueError(f"unknown rounding {rounding!r}")


def _deductions_owed(
    available_t: int, quantity_t: int, deductions: tuple[Deduction, ...], before: IssuedBefore
) -> tuple[dict[str, int], dict[str, int]]:
    """Each deduction's part of this issuance, within what it has left after the buffer (in
    catalog order), and what each has owed in all: the owed total grows by the rate in force on
    the new tonnes (cumulative rounding) and the part is what it comes to beyond what was taken."""
    parts: dict[str, int] = {}
    owed_t: dict[str, int] = {}
    for deduction in deductions:
        rate, rounding = deduction.rate, deduction.rounding
        due_before_t = apply_rate(before.quantity_t, rate, rounding)
        due_after_t = apply_rate(before.quantity_t + quantity_t, rate, rounding)
        recorded = before.owed_t
        owed_before_t = due_before_t if recorded is None else recorded.get(deduction.code, 0)
        owed_t[deduction.code] = owed_before_t + due_after_t - due_before_t
        outstanding_t = max(0, owed_t[deduction.code] - before.deducted_t.get(deduction.code, 0))
        parts[deduction.code] = min(outstanding_t, available_t)
        available_t -= parts[deduction.code]
    return parts, owed_t


def buffer_rate(rule: BufferRule, risk_rating: Decimal | None = None) -> Decimal:
    """The share of an issuance a standard's buffer rule withholds.

    risk_rating: the project's non-permanence risk rating (a fraction, e.g. Decimal("0.15")),
    needed only for risk-rated buffers; below the rule's minimum the minimum applies, above its
    maximum the project is not eligible (VCS AFOLU Non-Permanence Risk Tool)."""
    if rule.kind == "none":
        return ZERO
    if rule.kind == "fixed" and rule.rate is not None:
        return rule.rate
    if rule.kind == "risk_rating" and rule.rate_min is not None and rule.rate_max is not None:
        return _risk_rated(rule.rate_min, rule.rate_max, risk_rating)
    raise DeductionError("E_BUFFER_RULE_NOT_ENCODED", f"buffer rule kind '{rule.kind}'")


def _risk_rated(rate_min: Decimal, rate_max: Decimal, risk_rating: Decimal | None) -> Decimal:
    if risk_rating is None or not ZERO <= risk_rating <= 1:
        raise DeductionError("E_RISK_RATING_INVALID", "a risk rating between 0 and 1 is required")
    if risk_rating > rate_max:
        raise DeductionError(
            "E_RISK_RATING_ABOVE_MAXIMUM", f"risk rating {risk_rating} exceeds {rate_max}"
        )
    return max(risk_rating, rate_min)


def split_issuance(
    quantity_t: int,
    deductions: tuple[Deduction, ...] = (),
    buffer_rate_share: Decimal = ZERO,
    buffer_rounding: str = "up",
    before: IssuedBefore = NOTHING_BEFORE,
) -> IssuanceSplit:
    """Split quantity_t (whole verified units) into proponent, share of proceeds, OMGE, buffer,
    after the project's earlier issuances `before`."""
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t < 0:
        raise DeductionError("E_QUANTITY_INVALID", "quantity must be a non-negative integer")
    unknown = {d.code for d in deductions} - DEDUCTION_CODES
    if unknown:
        raise DeductionError("E_UNKNOWN_DEDUCTION", f"unknown deductions {sorted(unknown)}")
    if sum(d.rate for d in deductions) + buffer_rate_share > 1:
        raise DeductionError("E_DEDUCTIONS_EXCEED_QUANTITY", "rates add up to more than 100%")
    buffer_t = min(quantity_t, apply_rate(quantity_t, buffer_rate_share, buffer_rounding))
    parts, owed_t = _deductions_owed(quantity_t - buffer_t, quantity_t, deductions, before)
    to_proponent_t = quantity_t - sum(parts.values()) - buffer_t
    if to_proponent_t < 0:
        raise RuntimeError(f"deductions {parts} and buffer {buffer_t} exceed {quantity_t}")
    return IssuanceSplit(
        quantity_t=quantity_t,
        to_proponent_t=to_proponent_t,
        share_of_proceeds_t=parts.get(SHARE_OF_PROCEEDS, 0),
        omge_cancelled_t=parts.get(OMGE, 0),
        buffer_t=buffer_t,
        owed_t=owed_t,
    )
