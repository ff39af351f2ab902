from rapport.candidates.selectors import candidate_list


def test_a_created_person_is_found_by_name_and_by_email(recruiter):
    from tests.factories import make_candidate

    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["Grace@Example.org"])

    by_name = candidate_list(user=recruiter, filters={"q": "hopper"})
    by_email = candidate_list(user=recruiter, filters={"q": "grace@example.org"})

    assert [c.pk for c in by_name.items] == [person.pk]
    assert [c.pk for c in by_email.items] == [person.pk]
