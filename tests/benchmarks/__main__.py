"""`python -m tests.benchmarks`: see `runner.main`."""

import sys

from tests.benchmarks.runner import main

sys.exit(main())
