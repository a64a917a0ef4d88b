"""`python -m benchmarks`: see `runner.main`."""

import sys

from benchmarks.runner import main

sys.exit(main())
