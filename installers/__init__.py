"""Lifeline's installers: PyInstaller bundles of the applet, console and converter.

    python -m installers build [applet|console|converter|all] [--broker-url URL …]
    python -m installers report dist/lifeline-applet-linux

* :mod:`installers.project` — the version (from ``pyproject.toml``, the one place it is
  written), the metadata in ``assets/``, and where builds go.
* :mod:`installers.bundles` — what each program bundles: the Qt modules, plugins and
  translations it uses and nothing else, pruned libraries, selective strip. The spec
  files (``*.spec`` here) call it.
* :mod:`installers.build` — runs PyInstaller on a spec, then packages (Linux: the
  console's ``.tar.gz``) and reports sizes.
* :mod:`installers.sizes` — what each bundled library adds to a build.

Platform recipes that are not built on this project's Linux CI: ``windows/`` (Inno
Setup script for the console) and ``macos/`` (``.app``/``.dmg``, signing and
notarization). docs/packaging.md explains all of it.
"""
