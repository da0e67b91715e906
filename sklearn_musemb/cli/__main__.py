"""``python -m sklearn_musemb.cli``: the ``musemb`` command."""

from . import main

raise SystemExit(main())
