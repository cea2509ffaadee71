"""The server's append-only, hash-chained audit log (one chain per clinic) and its verifier."""
