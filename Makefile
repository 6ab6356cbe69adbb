# Builds Lifeline's programs for this platform (docs/packaging.md).
#   make dist                     applet, console and converter into dist/
#   make applet|console|converter one of them
# Options for the applet: BROKER_URL=https://… CA_FINGERPRINT=sha256:…
PYTHON ?= .venv/bin/python
BUILD_OPTS = $(if $(BROKER_URL),--broker-url $(BROKER_URL)) \
             $(if $(CA_FINGERPRINT),--ca-fingerprint $(CA_FINGERPRINT))

.PHONY: dist applet console converter clean-dist

dist:
	$(PYTHON) -m installers build all $(BUILD_OPTS)

applet console converter:
	$(PYTHON) -m installers build $@ $(BUILD_OPTS)

clean-dist:
	rm -rf dist build/pyinstaller
