"""Cross-task transfer studies on NAS tables: ``benchlab reproduce transfer``."""

from ._protocol import MODEL_RUNS, SETTINGS, TRANSFER_METHODS, reproduce

__all__ = ["MODEL_RUNS", "SETTINGS", "TRANSFER_METHODS", "reproduce"]
