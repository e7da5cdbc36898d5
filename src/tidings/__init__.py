"""tidings: self-hosted business messaging over SMPP 3.4."""

__version__ = "0.1.0"
