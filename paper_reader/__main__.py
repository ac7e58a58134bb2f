"""python -m paper_reader: the same as the paper-reader command."""

from paper_reader.cli import main

main()
