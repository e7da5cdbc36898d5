"""Media files: type detection from the bytes, conversion to what a route accepts, and signed
URLs. Pure functions and subprocesses (ffmpeg, LibreOffice); the store and the use cases that
keep media live in ``store/media.py`` and ``core/media.py``."""
