"""``python -m examples.research_agent``: see :mod:`examples.research_agent.app`."""

import sys

from .app import main

sys.exit(main())
