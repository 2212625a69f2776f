"""The `carbonex` command line: parse arguments, call the Ledger API, render the result.

Human-readable rich output by default; `--json` prints one JSON document on stdout. Exit codes:
0 done, 1 refused (or not found, or verify found problems), 2 bad usage or malformed input.
No business rule lives here: every decision is the ledger's.
"""
