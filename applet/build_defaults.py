"""Settings a build bakes into the applet (the packaging step rewrites this file).

A source checkout has no default server: pass ``--broker`` or put
``lifeline-broker.json`` next to the program (see :mod:`applet.launch`).
"""

BROKER_URL: str | None = None
CA_FINGERPRINT: str | None = None
