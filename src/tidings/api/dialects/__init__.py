"""Provider dialects: each provider's API on the wire, translated to the same core calls."""
