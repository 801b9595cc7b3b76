"""The high-potential model (高潜力人才) and its label."""

from models.potential.model import LogisticPotentialModel, PotentialModel

__all__ = ["LogisticPotentialModel", "PotentialModel"]
