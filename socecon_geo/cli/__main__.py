"""``python -m socecon_geo.cli``: the same as the ``socecon-geo`` command."""

import sys

from socecon_geo.cli import main

sys.exit(main())
