"""Errors of the rewards stage; each message names the cause and the fix."""

from rubricate.errors import RubricateError


class RewardError(RubricateError):
    """Rewards cannot be computed as configured (no such judge, ambiguous judge, ...)."""


class ExportError(RewardError):
    """An export cannot be written (no rows selected, unknown reward set, unwritable folder)."""
