"""Every check of the suite, in the order they run: the card itself, then 0.3's, then 1.0's."""

from conformance.checks import (
    card,
    discovery,
    envelope,
    methods,
    push,
    streaming,
    tickets,
    v1_card,
    v1_data,
    v1_envelope,
    v1_lifecycle,
    v1_list,
    v1_methods,
    v1_push,
    v1_streaming,
)
from conformance.model import Check

ALL_CHECKS: tuple[Check, ...] = (
    *discovery.CHECKS,
    *card.CHECKS,
    *envelope.CHECKS,
    *methods.CHECKS,
    *streaming.CHECKS,
    *push.CHECKS,
    *tickets.CHECKS,
    *v1_card.CHECKS,
    *v1_envelope.CHECKS,
    *v1_methods.CHECKS,
    *v1_list.CHECKS,
    *v1_lifecycle.CHECKS,
    *v1_streaming.CHECKS,
    *v1_data.CHECKS,
    *v1_push.CHECKS,
)

__all__ = ["ALL_CHECKS"]
