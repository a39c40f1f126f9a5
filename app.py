"""Entry point for `flask --app app` and `gunicorn app:app`."""

import sys

from widget import create_app
from widget.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line, not a traceback, for a setting that cannot work
    sys.exit(f"Parley cannot start: {exc}")
