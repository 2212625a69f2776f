"""The `carbonex` command: every command group, registered in one place.

carbonex account open|close|freeze|unfreeze|list|show
carbonex issue | transfer | retire | cancel | surrender | expire | convert
carbonex hold place|release|consume
carbonex batch FILE
carbonex holdings | blocks | statement | provenance | journal | summary | verify | backup
carbonex journal-export FILE | journal-check FILE [--head-hash H]
carbonex project create|act|show|list
carbonex report double-issuance
carbonex inclusion record|verify|reject|points|aggregate|contributions|history|factors
carbonex bench SUITE
carbonex demo
carbonex serve [--host --port --workers --db]
carbonex user add|api-key
"""

from __future__ import annotations

import gc
import sys

import typer

from carbonex.cli import queries, render, units
from carbonex.cli.accounts import account_app
from carbonex.cli.backup import backup
from carbonex.cli.batch import batch
from carbonex.cli.bench import bench
from carbonex.cli.demo import demo
from carbonex.cli.exits import EXIT_USAGE
from carbonex.cli.heads import head_app
from carbonex.cli.holds import hold_app
from carbonex.cli.imports import import_app
from carbonex.cli.inclusion import inclusion_app
from carbonex.cli.journal_file import journal_check, journal_export
from carbonex.cli.projects import project_app
from carbonex.cli.reports import report_app
from carbonex.cli.restore import restore
from carbonex.cli.service import serve, user_app
from carbonex.cli.upgrade import upgrade
from carbonex.cli.verification import verify
from carbonex.cli.writer import writer

app = typer.Typer(
    name="carbonex",
    help="Carbonex: an open-source carbon-market registry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _each_run() -> None:
    """Every run starts outside JSON mode (an earlier run in the same process may have set it)."""
    render.json_mode(False)


app.add_typer(account_app, name="account")
app.add_typer(head_app, name="head")
app.add_typer(hold_app, name="hold")
app.add_typer(import_app, name="import")
app.add_typer(project_app, name="project")
app.add_typer(inclusion_app, name="inclusion")
app.add_typer(report_app, name="report")
app.add_typer(user_app, name="user")
for command in (
    units.issue,
    units.transfer,
    units.retire,
    units.cancel,
    units.surrender,
    units.expire,
    units.convert,
    batch,
    queries.holdings,
    queries.blocks,
    queries.statement,
    queries.provenance,
    queries.journal,
    queries.summary,
    verify,
    backup,
    restore,
    upgrade,
    journal_export,
    journal_check,
    bench,
    demo,
    serve,
    writer,
):
    app.command()(command)


GC_YOUNG_OBJECTS_THRESHOLD = 50_000
"""The write path allocates many short-lived tuples and no cycles; collecting the young generation
every 700 allocations (CPython's default) spends a tenth of a command's time rescanning them."""


def main() -> None:
    """Entry point of the `carbonex` script."""
    gc.set_threshold(GC_YOUNG_OBJECTS_THRESHOLD, *gc.get_threshold()[1:])
    undecodable = undecodable_arguments(sys.argv[1:])
    if undecodable:
        render.error(f"argument {undecodable[0]} is not UTF-8 text; nothing was done")
        sys.exit(EXIT_USAGE)
    app(prog_name="carbonex")


def undecodable_arguments(arguments: list[str]) -> list[int]:
    """The positions (from 1) of arguments whose bytes were not UTF-8: Python keeps them as
    lone surrogates, which no store, journal or terminal can take, as ids or as file names."""
    undecodable = []
    for position, argument in enumerate(arguments, start=1):
        try:
            argument.encode()
        except UnicodeEncodeError:
            undecodable.append(position)
    return undecodable


if __name__ == "__main__":
    main()
