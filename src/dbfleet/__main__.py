"""`python -m dbfleet` runs the command line."""

from dbfleet.cli import main

main()
