"""`carbonex bench SUITE`: run a benchmark suite of `carbonex.bench` and print its results.

`carbonex.bench.SUITES` maps suite names to functions returning a dict of results. The package
is imported only when this command runs, so the rest of the CLI works without it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import usage_error
from carbonex.cli.options import JsonOption
from carbonex.text import shortened

Suite = Callable[..., dict[str, Any]]


def load_suites() -> Mapping[str, Suite]:
    try:
        module = importlib.import_module("carbonex.bench")
    except ImportError as error:
        usage_error(f"the benchmarks are not installed (carbonex.bench: {error})")
    suites = getattr(module, "SUITES", None)
    if not isinstance(suites, Mapping):
        usage_error("carbonex.bench does not provide SUITES yet")
    return suites


def suite_arguments(suite: Suite, options: dict[str, Any]) -> dict[str, Any]:
    """The options given (None means the suite's own default); each must be one it takes."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        parameters = inspect.signature(suite).parameters
    except (TypeError, ValueError):
        return given
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return given
    unknown = sorted(set(given) - set(parameters))
    if unknown:
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown)
        usage_error(f"this suite does not take {flags}")
    return given


def flattened(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested results as dotted keys, for a two-column table."""
    rows: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows |= flattened(value, f"{name}.")
        else:
            rows[name] = value
    return rows


def bench(
    suite_name: Annotated[str, typer.Argument(metavar="SUITE", help="e.g. ledger or crash.")],
    scale: Annotated[float, typer.Option("--scale", help="Multiplies the workload.")] = 1.0,
    iterations: Annotated[
        int | None,
        typer.Option(
            "--iterations", help="Crash suite: runs. Default: the suite's.", show_default=False
        ),
    ] = None,
    postgres_url: Annotated[
        str | None,
        typer.Option("--postgres-url", help="Also run on this PostgreSQL.", show_default=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a benchmark suite and print its results."""
    suites = load_suites()
    suite = suites.get(suite_name)
    if suite is None:
        usage_error(f"unknown suite {shortened(suite_name)!r}; known: {', '.join(sorted(suites))}")
    options = {"scale": scale, "iterations": iterations, "postgres_url": postgres_url}
    results = suite(**suite_arguments(suite, options))
    if as_json:
        render.json_document(results)
        return
    rows = [{"name": name, "value": value} for name, value in flattened(results).items()]
    render.print_table(
        render.records_table(
            f"Benchmark: {suite_name}", [("name", "result"), ("value", "value")], rows
        )
    )
