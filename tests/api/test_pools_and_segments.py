from rapport.candidates.models import PoolMembership, Segment, TalentPool
from rapport.timeline.models import Activity
from tests.api.conftest import error_of
from tests.factories import CandidateFactory, TalentPoolFactory, make_candidate


def test_a_pool_is_created_listed_and_filled(api_as, recruiter):
    api = api_as(recruiter)
    ada = make_candidate(actor=recruiter, first_name="Ada")
    alan = make_candidate(actor=recruiter, first_name="Alan")

    created = api.post("/pools", {"name": "Silver medalists", "description": "Came second"})
    pool_id = created.json()["id"]
    added = api.post(f"/pools/{pool_id}/members", {"candidate_ids": [str(ada.pk), str(alan.pk)], "reason": "Final"})
    again = api.post(f"/pools/{pool_id}/members", {"candidate_ids": [str(ada.pk)]})
    listed = api.get("/pools").json()

    assert created.status_code == 201
    assert created.json()["name"] == "Silver medalists"
    assert created.json()["member_count"] == 0
    assert created.json()["owner_id"] == str(recruiter.pk)
    assert added.status_code == 200 and added.json() == {"added": 2, "already_members": 0}
    assert again.json() == {"added": 0, "already_members": 1}
    assert listed["items"][0]["member_count"] == 2
    assert listed["next_cursor"] is None
    assert PoolMembership.objects.get(candidate=ada).reason == "Final"
    assert Activity.objects.filter(type="pool.added", candidate=ada).exists()
    members = api.get("/candidates", {"pool": pool_id}).json()["items"]
    assert {m["id"] for m in members} == {str(ada.pk), str(alan.pk)}


def test_a_pool_with_a_taken_name_is_a_409_duplicate(api_as, recruiter):
    existing = TalentPoolFactory(name="Silver medalists")

    response = api_as(recruiter).post("/pools", {"name": "silver medalists"})

    assert response.status_code == 409
    assert error_of(response)["existing_id"] == str(existing.pk)


def test_bad_pool_input_is_422_naming_the_field(api_as, recruiter):
    api = api_as(recruiter)
    pool = TalentPoolFactory()

    no_name = api.post("/pools", {"name": ""})
    long_name = api.post("/pools", {"name": "x" * 121})
    no_people = api.post(f"/pools/{pool.pk}/members", {"candidate_ids": []})
    bad_id = api.post(f"/pools/{pool.pk}/members", {"candidate_ids": ["abc"]})
    long_reason = api.post(
        f"/pools/{pool.pk}/members", {"candidate_ids": [make_candidate(actor=recruiter).pk], "reason": "x" * 301}
    )

    assert no_name.status_code == 422 and "name" in error_of(no_name)["fields"]
    assert long_name.status_code == 422 and "name" in error_of(long_name)["fields"]
    assert no_people.status_code == 422 and "candidate_ids" in error_of(no_people)["fields"]
    assert bad_id.status_code == 422 and "candidate_ids" in error_of(bad_id)["fields"]
    assert long_reason.status_code == 422 and "reason" in error_of(long_reason)["fields"]
    assert not TalentPool.objects.exclude(pk=pool.pk).exists()


def test_adding_an_unknown_person_adds_no_one(api_as, recruiter):
    pool = TalentPoolFactory()
    ada = make_candidate(actor=recruiter)

    response = api_as(recruiter).post(f"/pools/{pool.pk}/members", {"candidate_ids": [ada.pk, 424242]})

    assert response.status_code == 404
    assert "candidate_ids" in error_of(response)["fields"]
    assert not PoolMembership.objects.exists()


def test_a_person_is_taken_out_of_a_pool(api_as, recruiter):
    api = api_as(recruiter)
    pool = TalentPoolFactory()
    ada = make_candidate(actor=recruiter)
    api.post(f"/pools/{pool.pk}/members", {"candidate_ids": [ada.pk]})

    removed = api.delete(f"/pools/{pool.pk}/members/{ada.pk}")
    again = api.delete(f"/pools/{pool.pk}/members/{ada.pk}")

    assert removed.status_code == 204
    assert not PoolMembership.objects.exists()
    assert Activity.objects.filter(type="pool.removed", candidate=ada).exists()
    assert again.status_code == 404
    assert api.delete(f"/pools/424242/members/{ada.pk}").status_code == 404


def test_pools_are_paginated_by_name(api_as, recruiter):
    for name in ("Charlie", "Alpha", "Bravo"):
        TalentPoolFactory(name=name)
    api = api_as(recruiter)

    first = api.get("/pools", {"limit": 2}).json()
    second = api.get("/pools", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [p["name"] for p in first["items"]] == ["Alpha", "Bravo"]
    assert [p["name"] for p in second["items"]] == ["Charlie"]
    assert second["next_cursor"] is None


def test_a_segment_is_created_from_filters_and_its_members_computed_now(api_as, recruiter):
    api = api_as(recruiter)
    pythonista = make_candidate(actor=recruiter, first_name="Guido", tags=["python"])
    make_candidate(actor=recruiter, first_name="Rasmus", tags=["php"])

    created = api.post(
        "/segments", {"name": "Pythonistas", "description": "Python people", "filters": {"tag": "python"}}
    )
    segment_id = created.json()["id"]
    before = api.get(f"/segments/{segment_id}/members").json()
    newcomer = make_candidate(actor=recruiter, first_name="Brett", tags=["python"])
    after = api.get(f"/segments/{segment_id}/members").json()
    listed = api.get("/segments").json()["items"]

    assert created.status_code == 201
    assert created.json()["filters"] == {"tag": "python"}
    assert created.json()["is_persona"] is False
    assert [m["id"] for m in before["items"]] == [str(pythonista.pk)]
    assert {m["id"] for m in after["items"]} == {str(pythonista.pk), str(newcomer.pk)}
    assert [s["id"] for s in listed] == [segment_id]


def test_segment_members_are_paginated(api_as, recruiter):
    CandidateFactory.create_batch(5, source="fair")
    api = api_as(recruiter)
    segment_id = api.post("/segments", {"name": "Fair", "filters": {"source": "fair"}}).json()["id"]

    first = api.get(f"/segments/{segment_id}/members", {"limit": 3}).json()
    second = api.get(f"/segments/{segment_id}/members", {"limit": 3, "cursor": first["next_cursor"]}).json()

    assert len(first["items"]) == 3 and len(second["items"]) == 2
    assert second["next_cursor"] is None
    assert not {m["id"] for m in first["items"]} & {m["id"] for m in second["items"]}


def test_bad_segments_are_refused_naming_the_field(api_as, recruiter):
    api = api_as(recruiter)
    Segment.objects.create(name="Taken", filters={"tag": "x"})

    cases = {
        "filters.status": api.post("/segments", {"name": "A", "filters": {"status": "best_friend"}}),
        "filters.colour": api.post("/segments", {"name": "B", "filters": {"colour": "blue"}}),
        "filters.pool": api.post("/segments", {"name": "C", "filters": {"pool": "99999999999999999999999"}}),
        "filters": api.post("/segments", {"name": "D", "filters": {}}),
        "name": api.post("/segments", {"name": "x" * 121, "filters": {"tag": "x"}}),
    }
    duplicate = api.post("/segments", {"name": "taken", "filters": {"tag": "y"}})

    for field, response in cases.items():
        assert response.status_code == 422, (field, response.content)
        assert field in error_of(response)["fields"], (field, response.content)
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "duplicate"
    assert Segment.objects.count() == 1


def test_unknown_segments_are_404(api_as, recruiter):
    assert api_as(recruiter).get("/segments/424242/members").status_code == 404
