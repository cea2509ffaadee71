"""Outside services a clinic connects (Twilio, Meta): credentials, routing and transports."""
