"""The ``aprende`` command's entry point, outside the package on purpose: a Ctrl-C while the
package and NumPy load (about half of the start-up time) ends with one line, not a
traceback; importing ``aprende.cli`` would first import the whole ``aprende`` package."""

import sys


def main() -> int:
    try:
        from aprende.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("aprende: interrupted\n")
        return 130
    return run()
