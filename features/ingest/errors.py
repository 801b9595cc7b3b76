"""The two ways an ingest stops: a bad mapping file (stops everything) and a feed that cannot be read or
has drifted from the contract (stops that feed only)."""

from __future__ import annotations


class MappingError(ValueError):
    """The mapping file is unreadable or declares something the contract does not know."""


class FeedError(Exception):
    """A feed cannot be ingested: unreadable file, missing file or schema drift. Names feed, file, column."""

    def __init__(self, feed: str, file: str, message: str, column: str | None = None) -> None:
        self.feed = feed
        self.file = file
        self.column = column
        where = f"feed {feed!r}, file {file!r}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")
