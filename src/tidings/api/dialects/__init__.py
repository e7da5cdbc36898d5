"""Provider-compatible APIs: each dialect translates a provider's requests to core calls."""
