"""``python -m aprende.cli``: the ``aprende`` command."""

from aprende.cli import main

raise SystemExit(main())
