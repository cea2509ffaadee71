"""The client record screen: one client on one screen."""
