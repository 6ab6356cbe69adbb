#!/bin/sh
# On a Mac (not run on this project's Linux CI): builds the console as
# "Lifeline Console.app", signs it with the hardened runtime, wraps it in a .dmg with a
# link to /Applications, then signs, notarizes and staples the .dmg.
#
#   export LIFELINE_MAC_IDENTITY="Developer ID Application: Example Ltd (TEAMID1234)"
#   export LIFELINE_NOTARY_PROFILE=lifeline    # xcrun notarytool store-credentials lifeline …
#   installers/macos/make-dmg.sh
#
# The applet is built the same way (python -m installers build applet → dist/Lifeline.app)
# and signed with signing/macos/sign.sh; docs/packaging.md says why a Mac download of
# the applet cannot carry the session's code in its name.
set -eu
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
: "${LIFELINE_MAC_IDENTITY:?set LIFELINE_MAC_IDENTITY to a Developer ID Application identity}"
: "${LIFELINE_NOTARY_PROFILE:?set LIFELINE_NOTARY_PROFILE to a notarytool keychain profile}"
VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
APP="dist/Lifeline Console.app"
DMG="dist/lifeline-console-$VERSION-macos.dmg"

python3 -m installers build console
signing/macos/sign.sh "$APP"

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Lifeline Console" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"

signing/macos/sign.sh "$DMG"
signing/macos/notarize.sh "$DMG"
echo "$DMG is signed, notarized and stapled."
