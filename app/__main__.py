"""`python -m app <command>`: the headless side of the desktop (see app.cli)."""

import sys

from app.cli import main

sys.exit(main(sys.argv[1:]))
