"""PyInstaller runtime hook: run before Glowdesk's own code inside the frozen app."""

import os
import sys

# Qt finds its plugins inside the bundle; keep a user's global QT_PLUGIN_PATH from interfering.
os.environ.pop("QT_PLUGIN_PATH", None)
# phonenumbers loads its metadata lazily by module name: make sure the frozen importer is used.
sys.dont_write_bytecode = True
