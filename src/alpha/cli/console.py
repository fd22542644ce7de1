"""The Rich console the CLI prints through.

On a terminal Rich sizes itself to the window. Piped into a file or another program it would
assume 80 columns and wrap tables of ARNs into unreadable slivers, so it gets a wide fixed
width instead (and, as Rich does by itself, no colour).
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 160


def stdout_console() -> Console:
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return Console()
    return Console(width=PIPED_WIDTH)
