"""The applet the end user runs (Qt shell over common/; built in its own issue)."""
