"""How both parts read the setting values they share: id lists and service URLs."""

from __future__ import annotations


def split_ids(value: object) -> object:
    """``"1, 2,3"`` (or one int) → a list for pydantic to check; other values as they are."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def check_url(value: str | None) -> str | None:
    """An ``http(s)://`` URL without its trailing slash; ``ValueError`` for anything else."""
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")
