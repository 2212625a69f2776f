"""Exit codes and the one way the CLI reports bad usage."""

from __future__ import annotations

from typing import NoReturn

import typer

from carbonex.cli import render

EXIT_OK = 0
EXIT_REFUSED = 1
"""The ledger refused the command; its failure codes are printed."""
EXIT_NOT_FOUND = 1
"""A query named an account, serial or hold that does not exist."""
EXIT_PROBLEMS_FOUND = 1
"""`verify` found the ledger inconsistent."""
EXIT_USAGE = 2
"""Bad usage, malformed input or an unusable database: nothing was submitted."""


def usage_error(message: str) -> NoReturn:
    """Report bad usage or malformed input on stderr (and, under --json, as a JSON document on
    stdout) and exit with code 2."""
    render.usage_error(message)
    raise typer.Exit(EXIT_USAGE)


def not_found(message: str, as_json: bool) -> NoReturn:
    """Report a lookup that found nothing; in JSON mode stdout carries `null`."""
    if as_json:
        render.json_document(None)
    render.error(message)
    raise typer.Exit(EXIT_NOT_FOUND)
