"""Split a verified issuance into the proponent's share and the programme's deductions.

Rounding rule (ARCHITECTURE.md "Numbers"): every deduction is computed on the gross verified
quantity q, independently of the others, as floor(q x rate) when its rounding is "down" (share
of proceeds, OMGE: never more than the rate, never a fraction of a unit) and ceil(q x rate) when
"up" (buffer contributions: the conservative side protects the pool against reversals). The
proponent receives q minus the deductions, so the parts always add up to q exactly. Products are
taken in exact rational arithmetic (`Fraction`), so no quantity is too large to round correctly.

Refusals here are input errors a service checks before calling (an unencoded buffer rule, a
missing or excessive risk rating); they raise `DeductionError` carrying a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from carbonex.catalog.standards import BufferRule, Deduction

SHARE_OF_PROCEEDS = "share_of_proceeds"
OMGE = "omge"
KNOWN_DEDUCTIONS = frozenset({SHARE_OF_PROCEEDS, OMGE})
ZERO = Decimal(0)


class DeductionError(ValueError):
    """An issuance cannot be split under the given rules; `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class IssuanceSplit:
    quantity_t: int
    to_proponent_t: int
    share_of_proceeds_t: int
    omge_cancelled_t: int
    buffer_t: int


def apply_rate(quantity_t: int, rate: Decimal, rounding: str) -> int:
    """Whole units of quantity_t x rate, rounded down ("down") or up ("up"), exactly."""
    product = quantity_t * Fraction(rate)
    if rounding == "down":
        return product.numerator // product.denominator
    if rounding == "up":
        return -(-product.numerator // product.denominator)
    raise ValueError(f"unknown rounding {rounding!r}")


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
) -> IssuanceSplit:
    """Split quantity_t (whole verified units) into proponent, share of proceeds, OMGE, buffer."""
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t < 0:
        raise DeductionError("E_QUANTITY_INVALID", "quantity must be a non-negative integer")
    unknown = {d.code for d in deductions} - KNOWN_DEDUCTIONS
    if unknown:
        raise DeductionError("E_UNKNOWN_DEDUCTION", f"unknown deductions {sorted(unknown)}")
    if sum(d.rate for d in deductions) + buffer_rate_share > 1:
        raise DeductionError("E_DEDUCTIONS_EXCEED_QUANTITY", "rates add up to more than 100%")
    parts = {d.code: apply_rate(quantity_t, d.rate, d.rounding) for d in deductions}
    buffer_t = apply_rate(quantity_t, buffer_rate_share, buffer_rounding)
    # Rates add up to at most 1 and only the buffer rounds up, so the deductions add up to at
    # most ceil(q x total rate) <= q: the proponent's share is never negative.
    to_proponent_t = quantity_t - sum(parts.values()) - buffer_t
    if to_proponent_t < 0:  # only reachable if a catalog rounds several deductions up
        raise DeductionError("E_DEDUCTIONS_EXCEED_QUANTITY", "rounded deductions exceed quantity")
    return IssuanceSplit(
        quantity_t=quantity_t,
        to_proponent_t=to_proponent_t,
        share_of_proceeds_t=parts.get(SHARE_OF_PROCEEDS, 0),
        omge_cancelled_t=parts.get(OMGE, 0),
        buffer_t=buffer_t,
    )
