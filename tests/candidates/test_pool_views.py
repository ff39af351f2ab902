"""Talent pool and segment pages: lists, create, members, add and remove, for every role and with bad input."""

import json

import pytest
from django.urls import reverse

from rapport.candidates.models import PoolMembership, Segment, TalentPool
from rapport.candidates.services import pool_add_members, pool_create, segment_create
from rapport.timeline.models import Activity
from tests.factories import make_candidate

pytestmark = pytest.mark.django_db

OTHER_ROLES = ["hiring_manager", "interviewer", "outsider"]


@pytest.fixture
def pool(world):
    pool = pool_create(actor=world["recruiter"], name="Silver medallists", description="Strong finalists")
    pool_add_members(
        actor=world["recruiter"], pool=pool, candidate_ids=[world["applicant"].pk], reason="Final round 2025"
    )
    return pool


@pytest.fixture
def segment(world):
    return segment_create(
        actor=world["recruiter"], name="Hoppers", filters={"q": "hopper"}, description="People called Hopper"
    )


# --- Pools --------------------------------------------------------------------------------------------------------


def test_the_pools_list_shows_member_counts(client, world, pool):
    client.force_login(world["recruiter"])

    html = client.get(reverse("pools:list")).content.decode()

    assert "Silver medallists" in html
    assert '<td class="col-num">1</td>' in html


def test_an_empty_pools_list_offers_to_create_one(client, recruiter):
    client.force_login(recruiter)

    html = client.get(reverse("pools:list")).content.decode()

    assert "No talent pools yet" in html
    assert "Create a pool" in html


def test_creating_a_pool_opens_it(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("pools:list"), {"name": "Future leaders", "description": "Keep warm"})

    pool = TalentPool.objects.get(name="Future leaders")
    assert response["Location"] == reverse("pools:detail", args=[pool.pk])
    assert (pool.description, pool.owner) == ("Keep warm", recruiter)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the pool a name."),
        ("x" * 121, "Use at most 120 characters."),
        ("silver MEDALLISTS", "already exists"),
    ],
)
def test_bad_pool_names_are_refused_next_to_the_field(client, world, pool, name, message):
    client.force_login(world["recruiter"])

    response = client.post(reverse("pools:list"), {"name": name})

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'id="field-name"' in html
    assert TalentPool.objects.count() == 1


def test_the_pool_page_lists_members_with_reason_and_who_added_them(client, world, pool):
    client.force_login(world["recruiter"])

    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()

    assert "Grace Hopper" in html
    assert "Final round 2025" in html
    assert world["recruiter"].name in html
    assert f"/?pool={pool.pk}" in html


def test_the_pool_picker_marks_people_already_in_the_pool(client, world, pool):
    make_candidate(actor=world["recruiter"], first_name="Grace", last_name="Kelly", emails=["kelly@example.org"])
    client.force_login(world["recruiter"])

    html = client.get(reverse("pools:search", args=[pool.pk]), {"q": "grace"}, HTTP_HX_REQUEST="true")
    html = html.content.decode()

    assert "Grace Kelly" in html and "Grace Hopper" in html
    assert "Already in the pool" in html
    assert html.count('name="candidate_ids"') == 1


def test_the_pool_picker_works_as_a_page_too(client, world, pool):
    client.force_login(world["recruiter"])

    response = client.get(reverse("pools:search", args=[pool.pk]), {"q": "alan"})

    assert response.status_code == 200
    assert "Alan Turing" in response.content.decode()


def test_adding_people_with_a_reason(client, world, pool):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("pools:add", args=[pool.pk]),
        {"candidate_ids": [world["bystander"].pk, world["applicant"].pk], "reason": "Met at PyCon"},
        HTTP_HX_REQUEST="true",
    )

    membership = PoolMembership.objects.get(pool=pool, candidate=world["bystander"])
    assert (membership.reason, membership.added_by) == ("Met at PyCon", world["recruiter"])
    assert PoolMembership.objects.filter(pool=pool).count() == 2
    assert "Alan Turing" in response.content.decode()
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["rapport:toast"]["message"] == "Added 1 person to Silver medallists."
    assert Activity.objects.filter(type="pool.added", candidate=world["bystander"]).exists()


def test_adding_people_from_a_plain_form_returns_to_the_pool(client, world, pool):
    client.force_login(world["recruiter"])

    response = client.post(reverse("pools:add", args=[pool.pk]), {"candidate_ids": [world["bystander"].pk]})

    assert response["Location"] == reverse("pools:detail", args=[pool.pk])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Tick at least one person to add."),
        ({"candidate_ids": ["abc"]}, "Choose people from the search results."),
        ({"candidate_ids": ["999999"]}, "Unknown id 999999."),
        ({"candidate_ids": ["BYSTANDER"], "reason": "x" * 301}, "Keep the reason under 300 characters."),
    ],
)
def test_bad_additions_are_explained_and_nothing_is_added(client, world, pool, data, message):
    data = {k: ([str(world["bystander"].pk)] if v == ["BYSTANDER"] else v) for k, v in data.items()}
    client.force_login(world["recruiter"])

    htmx = client.post(reverse("pools:add", args=[pool.pk]), data, HTTP_HX_REQUEST="true")
    page = client.post(reverse("pools:add", args=[pool.pk]), data)

    assert message in htmx.content.decode()
    assert htmx["HX-Retarget"] == "#pool-add-errors"
    assert message in page.content.decode()
    assert PoolMembership.objects.filter(pool=pool).count() == 1


def test_removing_a_member(client, world, pool):
    client.force_login(world["recruiter"])

    response = client.post(reverse("pools:remove", args=[pool.pk, world["applicant"].pk]))
    again = client.post(reverse("pools:remove", args=[pool.pk, world["applicant"].pk]))

    assert response["Location"] == reverse("pools:detail", args=[pool.pk])
    assert again.status_code == 302
    assert not PoolMembership.objects.filter(pool=pool).exists()
    assert Activity.objects.filter(type="pool.removed", candidate=world["applicant"]).exists()


def test_the_remove_button_asks_first_and_names_what_happens(client, world, pool):
    client.force_login(world["recruiter"])

    html = client.get(reverse("pools:detail", args=[pool.pk])).content.decode()

    assert "Take Grace Hopper out of Silver medallists?" in html


def test_a_missing_pool_is_a_404(client, recruiter):
    client.force_login(recruiter)

    assert client.get(reverse("pools:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_cannot_see_or_change_pools(client, world, pool, role):
    client.force_login(world[role])

    assert client.get(reverse("pools:list")).status_code == 403
    assert client.post(reverse("pools:list"), {"name": "Sneaky"}).status_code == 403
    assert client.get(reverse("pools:detail", args=[pool.pk])).status_code == 404
    assert client.get(reverse("pools:search", args=[pool.pk]), {"q": "a"}).status_code == 404
    assert (
        client.post(reverse("pools:add", args=[pool.pk]), {"candidate_ids": [world["bystander"].pk]}).status_code == 404
    )
    assert client.post(reverse("pools:remove", args=[pool.pk, world["applicant"].pk])).status_code == 404
    assert TalentPool.objects.count() == 1
    assert PoolMembership.objects.filter(pool=pool).count() == 1


def test_an_admin_manages_pools(client, world, pool):
    client.force_login(world["admin"])

    assert client.get(reverse("pools:detail", args=[pool.pk])).status_code == 200
    client.post(reverse("pools:add", args=[pool.pk]), {"candidate_ids": [world["bystander"].pk]})

    assert PoolMembership.objects.filter(pool=pool).count() == 2


# --- Segments -----------------------------------------------------------------------------------------------------


def test_the_segments_list_describes_each_segments_filters(client, world, segment, pool):
    segment_create(actor=world["recruiter"], name="Silver engineers", filters={"pool": pool.pk, "status": "applicant"})
    client.force_login(world["recruiter"])

    html = client.get(reverse("segments:list")).content.decode()

    assert "Hoppers" in html and "Silver engineers" in html
    assert "Silver medallists" in html  # the pool is named, not shown as an id
    assert "Applicant" in html


def test_an_empty_segments_list_explains_what_segments_are(client, recruiter):
    client.force_login(recruiter)

    html = client.get(reverse("segments:list")).content.decode()

    assert "No segments yet" in html


def test_the_new_segment_form_is_prefilled_from_the_candidate_list_filters(client, world, pool):
    client.force_login(world["recruiter"])
    job = world["job"]
    stage = job.stages.get(name="Screening")

    html = client.get(
        reverse("segments:create"),
        {
            "q": "python",
            "tag": "backend",
            "pool": pool.pk,
            "job": job.pk,
            "stage": stage.pk,
            "status": "engaged",
            "source": "referral",
            "owner": world["recruiter"].pk,
            "country": "DE",
            "city": "Berlin",
            "created_after": "2025-01-01",
            "created_before": "2026-01-01",
            "updated_since": "2025-06-01",
        },
    ).content.decode()

    assert 'value="python"' in html and 'value="backend"' in html and 'value="referral"' in html
    assert 'value="DE"' in html and 'value="Berlin"' in html
    assert 'value="2025-01-01"' in html and 'value="2026-01-01"' in html and 'value="2025-06-01"' in html
    assert f'<option value="{pool.pk}" selected>' in html
    assert f'<option value="{job.pk}" selected>' in html
    assert f'<option value="{stage.pk}" selected>' in html
    assert '<option value="engaged" selected>' in html
    assert f'<option value="{world["recruiter"].pk}" selected>' in html


def test_saving_a_segment_keeps_its_filters_and_persona_description(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("segments:create"),
        {
            "name": "Berlin engineers",
            "description": "Backend people in Berlin",
            "is_persona": "on",
            "q": "engineer",
            "city": "Berlin",
            "country": "de",
            "created_after": "2025-01-01",
        },
    )

    segment = Segment.objects.get(name="Berlin engineers")
    assert response["Location"] == reverse("segments:detail", args=[segment.pk])
    assert segment.is_persona is True
    assert segment.description == "Backend people in Berlin"
    assert segment.filters == {"q": "engineer", "country": "DE", "city": "Berlin", "created_after": "2025-01-01"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Everyone"}, "Add at least one filter"),
        ({"name": "", "tag": "x"}, "Give the segment a name."),
        ({"name": "Hoppers", "tag": "x"}, "A segment with this name already exists."),
        ({"name": "Bad status", "status": "famous"}, "Select a valid choice"),
        ({"name": "Bad date", "created_after": "yesterday"}, "Enter a valid date."),
        ({"name": "Bad pool", "pool": "999999"}, "Choose one of the options."),
        ({"name": "Long query", "q": "x" * 501}, "at most 500 characters"),
        ({"name": "Long country", "country": "Germany"}, "at most 2 characters"),
    ],
)
def test_bad_segments_are_refused_and_nothing_is_saved(client, world, segment, data, message):
    client.force_login(world["recruiter"])

    response = client.post(reverse("segments:create"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Segment.objects.count() == 1


def test_the_segment_page_shows_who_matches_now(client, world, segment):
    client.force_login(world["recruiter"])
    url = reverse("segments:detail", args=[segment.pk])

    before = client.get(url).content.decode()
    make_candidate(actor=world["recruiter"], first_name="Frank", last_name="Hopper", emails=["frank@example.org"])
    after = client.get(url).content.decode()

    assert "Grace Hopper" in before and "Frank Hopper" not in before
    assert "<strong>1</strong> person matches" in before
    assert "Frank Hopper" in after
    assert "<strong>2</strong> people match" in after
    assert f'href="/?segment={segment.pk}"' in after
    assert "People called Hopper" in after


def test_a_segment_nobody_matches_says_so(client, world):
    empty = segment_create(actor=world["recruiter"], name="Nobody", filters={"tag": "astronaut"})
    client.force_login(world["recruiter"])

    html = client.get(reverse("segments:detail", args=[empty.pk])).content.decode()

    assert "Nobody matches right now" in html


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_cannot_see_or_create_segments(client, world, segment, role):
    client.force_login(world[role])

    assert client.get(reverse("segments:list")).status_code == 403
    assert client.get(reverse("segments:create")).status_code == 403
    assert client.post(reverse("segments:create"), {"name": "Sneaky", "tag": "x"}).status_code == 403
    assert client.get(reverse("segments:detail", args=[segment.pk])).status_code == 404
    assert Segment.objects.count() == 1


def test_a_missing_segment_is_a_404(client, recruiter):
    client.force_login(recruiter)

    assert client.get(reverse("segments:detail", args=[999999])).status_code == 404
