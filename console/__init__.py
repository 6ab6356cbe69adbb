"""The technician's console (Qt shell over common/; built in its own issue)."""
