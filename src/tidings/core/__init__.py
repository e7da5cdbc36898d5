"""Use cases: accounts, keys, messaging, routes and senders. Domain errors are raised here."""
