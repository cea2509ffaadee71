"""Leads: every inbound lead lands on one client record, with the ad that brought it."""
