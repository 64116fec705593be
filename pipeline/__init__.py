"""vessel-curate: curate image datasets of vessels from museum collections (the `curate` command)."""

__version__ = "0.1.0"
