"""``python -m aprende``: the ``aprende`` command."""

import sys

try:
    from aprende.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: one line, not a traceback
    sys.stderr.write("aprende: interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())
