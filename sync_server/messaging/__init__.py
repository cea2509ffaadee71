"""Two-way messaging: SMS through Twilio and Instagram DMs, one thread per client."""
