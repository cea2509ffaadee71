"""`python -m app <command>`: the headless side of the desktop (see app.cli)."""

import os
import sys

from app.cli import main

try:
    code = main(sys.argv[1:])
    sys.stdout.flush()
except BrokenPipeError:  # `python -m app status | head`: the reader left; not an error of ours
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
sys.exit(code)
