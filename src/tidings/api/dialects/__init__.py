"""Provider dialects: each translates one provider's API onto the same core calls as ``/v1``."""
