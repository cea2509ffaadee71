"""The server's data export (``python -m sync_server export``): a flow over the base contexts.

It reads through the sync, audit and clinics services (nothing of its own is stored) and writes
with :mod:`core.export`, the mapping it shares with the desktop.
"""
