"""Moved to :mod:`tests.support.sam`; kept so older imports (tests/streaming) work."""

from tests.support.sam import SAMError, SAMSession, dest_generate, naming_lookup

__all__ = ["SAMError", "SAMSession", "dest_generate", "naming_lookup"]
