"""Console tests run against a real applet controller on its own real X display."""

from tests.applet.conftest import display

__all__ = ["display"]
