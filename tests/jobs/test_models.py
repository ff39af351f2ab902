import pytest

from rapport.jobs.models import Job, WorkplaceType


@pytest.mark.parametrize(
    ("location", "workplace", "label"),
    [
        ("Berlin, DE", WorkplaceType.HYBRID, "Hybrid"),
        ("Berlin, DE", WorkplaceType.ONSITE, "On-site"),
        ("", WorkplaceType.REMOTE, "Remote"),
        ("Remote", WorkplaceType.REMOTE, ""),
        ("remote, EU time zones", WorkplaceType.REMOTE, ""),
        ("Hybrid (3 days in Lyon)", WorkplaceType.HYBRID, ""),
    ],
)
def test_the_workplace_is_said_once(location, workplace, label):
    assert Job(title="Engineer", location=location, workplace_type=workplace).workplace_label == label
