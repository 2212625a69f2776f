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
from decimal import Decimal, InvalidOperation
from typing import Any

from carbonex.catalog.standards import Methodology, ProjectCatalog
from carbonex.projects.methodologies import (
    AfforestationInputs,
    MethaneInputs,
    afforestation,
    grid_electricity,
    methane_destruction,
)

INPUTS_MAX = 32
INPUT_LENGTH_MAX = 64
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


def _parse(inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(inputs, Mapping) or not 0 < len(inputs) <= INPUTS_MAX:
        raise CalculationError("E_MONITORING_DATA_INVALID", f"1 to {INPUTS_MAX} named values")
    values: dict[str, Any] = {}
    for name, raw in inputs.items():
        if not isinstance(raw, str) or len(raw) > INPUT_LENGTH_MAX:
            raise CalculationError("E_MONITORING_DATA_INVALID", f"'{name}' must be a short text")
        if name in TEXT_INPUTS:
            values[name] = raw
            continue
        try:
            values[name] = Decimal(raw)
        except InvalidOperation as error:
            message = f"'{name}' = {raw!r} is not a decimal number"
            raise CalculationError("E_MONITORING_DATA_INVALID", message) from error
    return values


def calculate(
    catalog: ProjectCatalog, methodology_code: str, inputs: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    """(claimable whole tonnes, the calculation's record) or CalculationError with a code."""
    methodology = catalog.methodologies.get(methodology_code)
    if methodology is None or methodology.calculator not in CALCULATORS:
        raise CalculationError(
            "E_METHODOLOGY_NOT_ENCODED", f"no calculator for methodology '{methodology_code}'"
        )
    values = _parse(inputs)
    try:
        result = CALCULATORS[methodology.calculator](values, methodology, catalog)
    except TypeError as error:  # an unknown or missing parameter name
        raise CalculationError("E_MONITORING_DATA_INVALID", str(error)) from error
    except (ValueError, KeyError) as error:
        raise CalculationError("E_MONITORING_DATA_INVALID", str(error)) from error
    terms = {name: str(value) for name, value in dataclasses.asdict(result).items()}
    claimable_t = _claimable_t(result)
    record = {
        "methodology": methodology.code,
        "calculator": methodology.calculator,
        "inputs": {name: str(value) for name, value in inputs.items()},
        "terms": terms,
        "claimable_t": claimable_t,
    }
    return claimable_t, record
