"""Where the package keeps what it can rebuild: conversions, renderings, indexes."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that moves every cache of the package.
CACHE_ENV = "SKLEARN_MUSEMB_CACHE"


def cache_root() -> Path:
    """The package's cache folder: ``$SKLEARN_MUSEMB_CACHE`` or the user cache dir.

    Returns
    -------
    Path
        ``$SKLEARN_MUSEMB_CACHE`` when set, else
        ``platformdirs.user_cache_dir("sklearn-musemb")``; not created here.

    Examples
    --------
    >>> import os
    >>> os.environ["SKLEARN_MUSEMB_CACHE"] = "/tmp/musemb-cache"
    >>> str(cache_root())
    '/tmp/musemb-cache'
    >>> del os.environ["SKLEARN_MUSEMB_CACHE"]
    """
    base = os.environ.get(CACHE_ENV)
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("sklearn-musemb")
    return Path(base)
