"""One record per person: matching inbound people to client records, and merge reviews."""
