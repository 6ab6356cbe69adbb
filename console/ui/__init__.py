"""The console's windows: thin Qt widgets over :mod:`console.technician_session`."""
