"""`python -m miniagents_lc`: the live offline demo (see `miniagents_lc.demo.cli`)."""

import sys

from miniagents_lc.demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
