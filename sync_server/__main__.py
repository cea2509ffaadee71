"""``python -m sync_server``: see :mod:`sync_server.cli`."""

import sys

from sync_server.cli import main

sys.exit(main())
