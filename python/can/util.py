"""Utilities (placeholder; replaced by the config/registry work)."""
