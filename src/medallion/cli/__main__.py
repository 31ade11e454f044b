"""`python -m medallion.cli`: the same as the `medallion` command."""

import sys

from medallion.cli import main

sys.exit(main())
