"""Shipped target presets (YAML package data); load them with ``targets.load_target(name)``."""
