"""Screens of the ikeview TUI."""
