"""``python -m examples.support_assistant``: see :mod:`examples.support_assistant.app`."""

import sys

from .app import main

sys.exit(main())
