"""Ingestion: validate, normalise, de-duplicate and quarantine the four feeds; publish clean tables atomically.

Public API: :func:`ingest` and :func:`erase_employee`. The mapping file is documented in docs/mapping.md.
"""

from features.ingest.erase import erase_employee
from features.ingest.errors import FeedError, MappingError
from features.ingest.pipeline import ingest
from features.ingest.report import IngestReport, TableReport

__all__ = ["FeedError", "IngestReport", "MappingError", "TableReport", "erase_employee", "ingest"]
