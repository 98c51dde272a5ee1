"""Every check of the suite, in the order they run."""

from conformance.checks import card, envelope, methods, push, streaming, tickets
from conformance.model import Check

ALL_CHECKS: tuple[Check, ...] = (
    *card.CHECKS,
    *envelope.CHECKS,
    *methods.CHECKS,
    *streaming.CHECKS,
    *push.CHECKS,
    *tickets.CHECKS,
)

__all__ = ["ALL_CHECKS"]
