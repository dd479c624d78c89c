"""``python -m sipredirect.urs``: the reference router's command line."""

import sys

from .cli import main

sys.exit(main())
