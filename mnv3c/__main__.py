"""`python -m mnv3c` runs the command line."""

import sys

from mnv3c.cli import main

sys.exit(main())
