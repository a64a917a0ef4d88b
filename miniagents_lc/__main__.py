"""`python -m miniagents_lc`: the live offline demo (see `miniagents_lc.demo.cli`)."""

import sys

if __name__ == "__main__":
    try:
        from miniagents_lc.demo.cli import main  # the standard library only
    except KeyboardInterrupt:  # Ctrl-C in the first milliseconds
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    sys.exit(main(prog="python -m miniagents_lc"))
