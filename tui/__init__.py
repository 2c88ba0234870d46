"""The Textual user interface: presentation of the core's model only."""
