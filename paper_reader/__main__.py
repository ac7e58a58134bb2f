"""python -m paper_reader: the same as the paper-reader command."""

from .cli import main

main()
