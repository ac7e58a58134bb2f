"""The command line: typer commands that parse options, call one library function, show, map errors.

May import anything below it; nothing imports it. Commands are registered here, explicitly.
"""

from __future__ import annotations

import sys

from paper_reader.cli import ask, notes, read
from paper_reader.cli.common import _on_signal, app, global_flags_first

read.register(app)
ask.register(app)  # sections, ask
notes.register(app)  # init, batch, config


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    app(args=global_flags_first(sys.argv[1:]), prog_name="paper-reader")


__all__ = ["app", "main"]
