"""The shape of one upcoming automated touch, shared by sequences, triggers and the profile's "Upcoming" card."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Touch:
    """A message that automation will send to a person: when, how, with which template, and on whose behalf.

    `source_type` is "sequence" or "trigger"; `enrolment_id` is set for sequences and `run_id` for trigger runs,
    so the card can offer "skip" and "send now" on the right object.
    """

    due_at: datetime | None
    channel: str
    template_id: int | None
    template_name: str
    source_type: str
    source_id: int
    source_name: str
    enrolment_id: int | None = None
    run_id: int | None = None
