"""`python -m carbonex.cli`: the same as the `carbonex` script."""

from carbonex.cli.main import main

main()
