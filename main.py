"""Start the Glowdesk desktop app (see app.bootstrap)."""

import sys

from app.bootstrap import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
