"""The applet's windows: thin Qt widgets over :mod:`applet.session_run`.

Widgets only paint and emit the person's intent; :class:`applet.ui.shell.AppletShell`
wires them to the session in one place.
"""
