"""Widgets of the ikeview TUI."""
