# Builds and signs Lifeline's programs for this platform (docs/packaging.md).
#   make dist                     applet, console and converter into dist/
#   make applet|console|converter one of them
#   make sign-linux KEY=…         minisign signatures beside the Linux builds
#                                 (the key's password in LIFELINE_SIGN_PASSWORD)
#   make verify-linux PUB=…       check them against the public key
# Options for the applet: BROKER_URL=https://… CA_FINGERPRINT=sha256:…
PYTHON ?= .venv/bin/python
BUILD_OPTS = $(if $(BROKER_URL),--broker-url $(BROKER_URL)) \
             $(if $(CA_FINGERPRINT),--ca-fingerprint $(CA_FINGERPRINT))

LINUX_BUILDS = dist/lifeline-applet-linux dist/lifeline-converter \
               $(wildcard dist/lifeline-console-*-linux-*.tar.gz)

.PHONY: dist applet console converter sign-linux verify-linux clean-dist

dist:
	$(PYTHON) -m installers build all $(BUILD_OPTS)

applet console converter:
	$(PYTHON) -m installers build $@ $(BUILD_OPTS)

sign-linux:
	$(PYTHON) -m signing linux sign --key $(KEY) $(LINUX_BUILDS)

verify-linux:
	$(PYTHON) -m signing linux verify --public-key $(PUB) $(LINUX_BUILDS)

clean-dist:
	rm -rf dist build/pyinstaller
