"""``python -m aprende``: the ``aprende`` command."""

from aprende.cli import main

raise SystemExit(main())
