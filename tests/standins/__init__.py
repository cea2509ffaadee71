"""Local stand-ins for the outside services (DESIGN.md "Outside services in tests").

Each speaks its provider's real wire format, keeps state like the real service, runs on
127.0.0.1 on a free port (:class:`tests.standins.server.StandinServer`), and signs what it sends
with the provider's real scheme. ``make run``'s demo mode uses them too.
"""
