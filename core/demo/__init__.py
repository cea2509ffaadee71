"""The demo clinic, as both the desktop and the server build it (see :mod:`core.demo.catalogue`)."""
