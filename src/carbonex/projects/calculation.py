"""A monitoring report's data run through its methodology's calculator.

The project's methodology (catalog `methodologies.toml`) names the calculator; the report gives
the monitored values as decimal strings keyed by the calculator's parameter names. The result
is the quantity the data support (whole tonnes, before the standard's buffer and deductions,
which issuance applies) and every intermediate term, so a verifier can retrace it. A report may
claim less than its data support, never more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal, Inexact, InvalidOperation
from typing import Any

from carbonex.catalog.standards import Methodology, ProjectCatalog
from carbonex.projects.methodologies import (
    AfforestationInputs,
    MethaneInputs,
    afforestation,
    grid_electricity,
    methane_destruction,
)

DATA_INVALID = "E_MONITORING_DATA_INVALID"
INPUTS_MAX = 32
INPUT_LENGTH_MAX = 64
INPUT_MAGNITUDE_MAX = Decimal(10**15)
"""No monitored value of one project's period comes near 10^15 MWh, tonnes or tCO2/MWh: the
world's yearly electricity (~3 x 10^10 MWh) and GHG emissions (~5 x 10^10 t) stay below 10^11.
The bound keeps every product of inputs far inside Decimal's exponent range and the whole tonnes
a small int: unbounded, `9e999999` overflows, `1e5000` credits an int too long to print and
`1e999999` spends seconds of CPU building a million-digit int."""
TEXT_INPUTS = frozenset({"flare_type"})


class CalculationError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _grid(values: dict[str, Any], _methodology: Methodology, _catalog: ProjectCatalog) -> Any:
    return grid_electricity(**values)


def _methane(values: dict[str, Any], methodology: Methodology, catalog: ProjectCatalog) -> Any:
    return methane_destruction(MethaneInputs(**values), methodology, catalog.gwp.gwp("CH4"))


def _afforestation(
    values: dict[str, Any], methodology: Methodology, _catalog: ProjectCatalog
) -> Any:
    # The buffer is withheld at issuance under the standard's rule, not in the claim.
    return afforestation(AfforestationInputs(**values), methodology, Decimal(0))


CALCULATORS: dict[str, Callable[[dict[str, Any], Methodology, ProjectCatalog], Any]] = {
    "grid_electricity": _grid,
    "methane_destruction": _methane,
    "afforestation": _afforestation,
}


def _claimable_t(result: Any) -> int:
    """Whole tonnes the data support before buffer: `verified_t` where a calculator withholds a
    buffer itself, else `credited_t`."""
    return int(getattr(result, "verified_t", result.credited_t))


def _number(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        message = f"'{name}' = {raw!r} is not a decimal number"
        raise CalculationError(DATA_INVALID, message) from error
    # copy_abs is exact: abs() would round in the context and overflow on a huge exponent.
    if not value.is_finite() or value.copy_abs() > INPUT_MAGNITUDE_MAX:
        bound = f"{INPUT_MAGNITUDE_MAX:.0E}"
        message = f"'{name}' = {raw!r} is not a finite number of magnitude at most {bound}"
        raise CalculationError(DATA_INVALID, message)
    return value


def _parse(inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(inputs, Mapping) or not 0 < len(inputs) <= INPUTS_MAX:
        raise CalculationError(DATA_INVALID, f"1 to {INPUTS_MAX} named values")
    values: dict[str, Any] = {}
    for name, raw in inputs.items():
        if not isinstance(raw, str) or len(raw) > INPUT_LENGTH_MAX:
            raise CalculationError(DATA_INVALID, f"'{name}' must be a short text")
        values[name] = raw if name in TEXT_INPUTS else _number(name, raw)
    return values


def _run(
    calculator: str, values: dict[str, Any], methodology: Methodology, catalog: ProjectCatalog
) -> tuple[int, dict[str, str]]:
    """(claimable whole tonnes, every term as text); the data's faults as CalculationError."""
    try:
        result = CALCULATORS[calculator](values, methodology, catalog)
        # Inside the try: a term too long to print is the data's fault, not a crash.
        terms = {name: str(value) for name, value in dataclasses.asdict(result).items()}
        return _claimable_t(result), terms
    except (TypeError, ValueError, KeyError) as error:  # TypeError: an unknown or missing name
        raise CalculationError(DATA_INVALID, str(error)) from error
    except Inexact as error:  # the exact context refuses to round a term
        message = "the monitored data have too many digits to compute exactly"
        raise CalculationError(DATA_INVALID, message) from error
    except ArithmeticError as error:  # decimal.Overflow and kin: the inputs' bound should stop it
        message = f"the monitored data overflow the calculation ({type(error).__name__})"
        raise CalculationError(DATA_INVALID, message) from error


def calculate(
    catalog: ProjectCatalog, methodology_code: str, inputs: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    """(claimable whole tonnes, the calculation's record) or CalculationError with a code."""
    methodology = catalog.methodologies.get(methodology_code)
    if methodology is None or methodology.calculator not in CALCULATORS:
        raise CalculationError(
            "E_METHODOLOGY_NOT_ENCODED", f"no calculator for methodology '{methodology_code}'"
        )
    claimable_t, terms = _run(methodology.calculator, _parse(inputs), methodology, catalog)
    record = {
        "methodology": methodology.code,
        "calculator": methodology.calculator,
        "inputs": {name: str(value) for name, value in inputs.items()},
        "terms": terms,
        "claimable_t": claimable_t,
    }
    return claimable_t, record
