"""The one settings object. Built at the entry point (CLI or app factory) and passed down; nothing here
runs at import time and no directory is created until a command asks for one."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """TalentLoop settings; every field can be set with an environment variable ``TALENTLOOP_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TALENTLOOP_", extra="ignore")

    home: Path = Field(Path(".talentloop"), description="Workspace: raw feeds, stores, MLflow database, artifacts.")
    online_store: Literal["sqlite", "redis"] = Field("sqlite", description="Feast online store.")
    redis_connection_string: str = Field("localhost:6379", description="Redis address when online_store=redis.")
    mlflow_tracking_uri: str | None = Field(None, description="Defaults to a SQLite database in the workspace.")
    replacement_cost_multiple: float = Field(
        0.5, gt=0, le=5, description="Cost of replacing a leaver as a multiple of annual pay; prices the pay lever "
                                     "against the expected exit cost it avoids (docs/wording.md).")
    rating_point_value: float = Field(
        0.05, ge=0, le=5, description="Yearly value of one point of overall rating, as a share of the person's base pay; "
                                      "prices the training-effect report's return on investment "
                                      "(docs/training-effect.md).")
    reload_seconds: float = Field(
        0.0, ge=0, description="Serving polls the models' champion aliases every this many seconds and swaps in new "
                               "versions (0: only when an admin asks for a reload).")
    max_shrink: float = Field(
        0.5, ge=0, le=1, description="An ingest fails a feed when one of its tables would lose more than this share "
                                     "of the previous clean version's rows (unless `--allow-shrink TABLE`).")
    exploration_share: float = Field(
        0.0, ge=0, le=1, description="Share of recommendation lists randomised among the ranker's top "
                                     "exploration_pool courses, with the propensity logged (docs/learning-plans.md); "
                                     "0 shows the ranker's own top k.")
    exploration_pool: int = Field(
        20, ge=1, le=200, description="How many of the ranker's top courses a randomised list draws from.")
    future_tolerance_days: int = Field(
        31, ge=0, le=3660, description="Dates later than the ingest time plus this many days are quarantined as "
                                       "future_date (plan months excepted).")

    @property
    def raw_dir(self) -> Path:
        """Copies of the feeds as received, one folder per ingest."""
        return self.home / "raw"

    @property
    def offline_dir(self) -> Path:
        """Clean, validated tables (Parquet) and the feature tables built from them."""
        return self.home / "offline"

    @property
    def clean_dir(self) -> Path:
        return self.offline_dir / "clean"

    @property
    def feature_dir(self) -> Path:
        return self.offline_dir / "features"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def feast_dir(self) -> Path:
        """Feast registry and SQLite online store."""
        return self.home / "feast"

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def app_db(self) -> Path:
        """SQLite database of the application: attrition scores and alerts, reviews, API keys, audit log."""
        return self.home / "talentloop.db"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "mlartifacts"

    def ensure_dirs(self) -> None:
        """Create the workspace folders; called by the commands that write, never at import."""
        from features.workspace import make_private_dir

        make_private_dir(self.home)
        for d in (self.raw_dir, self.offline_dir, self.clean_dir, self.feature_dir, self.quarantine_dir,
                  self.reports_dir, self.feast_dir, self.artifacts_dir):
            make_private_dir(d)
