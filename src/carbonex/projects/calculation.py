"""A monitoring report's data run through its methodology's calculator.

The project's methodology (catalog `methodologies.toml`) names the calculator; the report gives
the monitored values as decimal strings keyed by the calculator's parameter names. The result
is the quantity the data support (whole tonnes, before the standard's buffer and deductions,
which issuance applies) and every intermediate term, so a verifier can retrace it. A report may
claim less than its data support, never more.

A report must give every input its methodology requires (`required_inputs` in the catalog):
a calculator's default of 0 for an omitted term credited tonnes no data showed (AM0029 without
the plant's own combustion emissions). Gases are converted with the GWP set of the project's
standard (`gwp_set` in standards.toml: AR4 for the CDM, AR5 for Article 6.4), and the record
names the set used, so a record keeps its meaning when a standard's set changes. `carbonex
verify` replays the lifecycle and does not calculate again: a history recorded under earlier
rules still verifies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal, Inexact, InvalidOperation
from typing import Any

from carbonex.catalog.standards import (
    CALCULATOR_NEEDS,
    GWP_SET_NOT_ENCODED,
    Methodology,
    ProjectCatalog,
)
from carbonex.projects.methodologies import (
    AfforestationInputs,
    MethaneInputs,
    afforestation,
    grid_electricity,
    methane_destruction,
)

DATA_INVALID = "E_MONITORING_DATA_INVALID"
INPUT_MISSING = "E_CALCULATION_INPUT_MISSING"
STANDARD_UNKNOWN = "E_STANDARD_UNKNOWN"
GWP_NOT_ENCODED = "E_GWP_SET_NOT_ENCODED"
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


Gwp = Mapping[str, Decimal]
"""The GWP values of the set the calculation uses, by gas."""


def _grid(values: dict[str, Any], _methodology: Methodology, _gwp: Gwp) -> Any:
    return grid_electricity(**values)


def _methane(values: dict[str, Any], methodology: Methodology, gwp: Gwp) -> Any:
    return methane_destruction(MethaneInputs(**values), methodology, gwp["CH4"])


def _afforestation(values: dict[str, Any], methodology: Methodology, _gwp: Gwp) -> Any:
    # The buffer is withheld at issuance under the standard's rule, not in the claim.
    return afforestation(AfforestationInputs(**values), methodology, Decimal(0))


CALCULATORS: dict[str, Callable[[dict[str, Any], Methodology, Gwp], Any]] = {
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


def _check_names(methodology: Methodology, values: Mapping[str, Any]) -> None:
    """Inputs the calculator reads, and every one the methodology requires: left out, a term
    would be read as 0 and credit tonnes the data never showed."""
    reads = CALCULATOR_NEEDS[methodology.calculator].inputs
    unknown = sorted(set(values) - reads)
    if unknown:
        message = (
            f"{', '.join(map(repr, unknown))}: not an input of methodology {methodology.code} "
            f"(it reads {', '.join(sorted(reads))})"
        )
        raise CalculationError(DATA_INVALID, message)
    missing = sorted(methodology.required_inputs - set(values))
    if missing:
        message = (
            f"methodology {methodology.code} requires {', '.join(map(repr, missing))}: give "
            f"0 where the term is zero (methodologies.toml, required_inputs_source, says why)"
        )
        raise CalculationError(INPUT_MISSING, message)


def _gwp_set(
    catalog: ProjectCatalog, methodology: Methodology, standard_code: str | None
) -> tuple[str | None, Gwp]:
    """(code, values) of the GWP set the calculation converts gases with: the project's
    standard's, or the catalog's default where no standard is given; (None, {}) for a
    calculator that reads no GWP."""
    if not CALCULATOR_NEEDS[methodology.calculator].gases:
        return None, {}
    if standard_code is None:
        code = catalog.gwp.default
    else:
        standard = catalog.standards.get(standard_code)
        if standard is None:
            raise CalculationError(STANDARD_UNKNOWN, f"unknown standard '{standard_code}'")
        if standard.gwp_set == GWP_SET_NOT_ENCODED:
            message = (
                f"standard {standard.code} names no GWP set Carbonex encodes "
                f"({standard.gwp_source}); methodology {methodology.code} converts gases"
            )
            raise CalculationError(GWP_NOT_ENCODED, message)
        code = standard.gwp_set
    return code, catalog.gwp.reports[code].values


def _run(
    calculator: str, values: dict[str, Any], methodology: Methodology, gwp: Gwp
) -> tuple[int, dict[str, str]]:
    """(claimable whole tonnes, every term as text); the data's faults as CalculationError."""
    try:
        result = CALCULATORS[calculator](values, methodology, gwp)
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
    catalog: ProjectCatalog,
    methodology_code: str,
    inputs: Mapping[str, Any],
    standard: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """(claimable whole tonnes, the calculation's record) or CalculationError with a code.

    `standard` is the project's: its gwp_set converts gases. Without it (a calculation outside
    any project, `carbonex project calculate`) the catalog's default set does, and the record
    says which."""
    methodology = catalog.methodologies.get(methodology_code)
    if methodology is None or methodology.calculator not in CALCULATORS:
        raise CalculationError(
            "E_METHODOLOGY_NOT_ENCODED", f"no calculator for methodology '{methodology_code}'"
        )
    values = _parse(inputs)
    _check_names(methodology, values)
    gwp_set, gwp = _gwp_set(catalog, methodology, standard)
    claimable_t, terms = _run(methodology.calculator, values, methodology, gwp)
    record = {
        "methodology": methodology.code,
        "calculator": methodology.calculator,
        "gwp_set": gwp_set,
        "inputs": {name: str(value) for name, value in inputs.items()},
        "terms": terms,
        "claimable_t": claimable_t,
    }
    return claimable_t, record
