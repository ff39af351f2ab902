"""The sequence pages: the list, the no-JavaScript builder (rows added, moved and removed, errors next to the step
field the service names, variants and branches turned into the API's `steps`), activate/pause/resume, the
enrolments page with per-person actions and the picker, enrolling from the candidate list, statistics with their
charts, and who may use each page."""

import pytest
from django.test import Client

from rapport.automation.models import Enrolment, EnrolmentStatus, Sequence, SequenceStatus, StepVariant
from rapport.automation.services_sequences import sequence_create, sequence_enrol
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.messaging.services import message_template_create
from tests.factories import TalentPoolFactory, make_candidate

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _template(actor, name="Outreach", channel="email"):
    data = {"name": name, "channel": channel, "body": "Hi {{ candidate.first_name }}"}
    if channel == "email":
        data["subject"] = "Hello"
    return message_template_create(actor=actor, data=data)


def _sequence(actor, template, *, status="active", name="Silver medalists"):
    return sequence_create(
        actor=actor,
        data={
            "name": name,
            "status": status,
            "steps": [
                {"type": "message", "channel": "email", "template_id": str(template.pk)},
                {"type": "wait", "days": 3},
                {"type": "message", "channel": "email", "template_id": str(template.pk)},
            ],
        },
    )


def _builder_post(**extra):
    data = {
        "name": "Berlin nurture",
        "sender": "owner",
        "window_start": "09:00",
        "window_end": "17:00",
        "window_days": ["mon", "tue", "wed", "thu", "fri"],
        "exit_on": ["replied", "hired"],
        "segment": "",
        "step_count": "0",
        "action": "save",
    }
    data.update(extra)
    return data


def _steps(*rows):
    """Builder inputs for the given rows ({"type": ..., field: value})."""
    data = {"step_count": str(len(rows))}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"steps-{index}-{name}"] = value
    return data


# --- the list -------------------------------------------------------------------------------------------------------


def test_an_empty_list_says_what_to_do_next(recruiter):
    body = _client(recruiter).get("/sequences/").content.decode()

    assert "No sequences yet" in body
    assert 'href="/sequences/new/"' in body and "Build a sequence" in body


def test_the_list_shows_status_and_people_active(world):
    recruiter = world["recruiter"]
    sequence = _sequence(recruiter, _template(recruiter))
    sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[world["applicant"].pk, world["bystander"].pk])
    _sequence(recruiter, _template(recruiter, "Other"), status="draft", name="Draft one")

    body = _client(recruiter).get("/sequences/").content.decode()

    row = body[body.index("Silver medalists") : body.index("</tr>", body.index("Silver medalists"))]
    assert "Active" in row and '<td class="col-num">2</td>' in row
    assert "Draft one" in body and "Draft" in body


@pytest.mark.parametrize("role", ["admin", "recruiter"])
def test_admins_and_recruiters_use_every_page(all_users, role):
    user = all_users[role]
    sequence = _sequence(user, _template(user))
    client = _client(user)

    for url in (
        "/sequences/",
        "/sequences/new/",
        f"/sequences/{sequence.pk}/",
        f"/sequences/{sequence.pk}/enrolments/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/sequences/{sequence.pk}/stats/").status_code == 200


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_get_403_for_the_pages_and_404_for_a_sequence(world, role):
    recruiter = world["recruiter"]
    sequence = _sequence(recruiter, _template(recruiter))
    result = sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[world["applicant"].pk])
    enrolment = Enrolment.objects.get(sequence=sequence)
    client = _client(world[role])

    assert client.get("/sequences/").status_code == 403
    assert client.get("/sequences/new/").status_code == 403
    assert client.post("/sequences/new/", _builder_post()).status_code == 403
    for url in ("", "enrolments/", "stats/"):
        assert client.get(f"/sequences/{sequence.pk}/{url}").status_code == 404, url
    assert client.post(f"/sequences/{sequence.pk}/status/", {"status": "paused"}).status_code == 404
    assert client.post(f"/sequences/{sequence.pk}/enrolments/{enrolment.pk}/exit/").status_code == 404
    assert (
        client.post(f"/sequences/{sequence.pk}/enrolments/add/", {"candidate_id": world["bystander"].pk}).status_code
        == 404
    )
    assert (
        client.post("/sequences/enrol/", {"ids": [world["bystander"].pk], "sequence": sequence.pk}).status_code == 403
    )
    assert Sequence.objects.count() == 1 and Enrolment.objects.count() == 1
    assert result.enrolled == [world["applicant"].pk]
    assert Sequence.objects.get().status == SequenceStatus.ACTIVE


def test_the_pages_need_a_sign_in(db):
    response = Client().get("/sequences/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the builder ----------------------------------------------------------------------------------------------------


def test_the_builder_saves_a_two_step_sequence_as_the_api_body(recruiter):
    template = _template(recruiter)

    response = _client(recruiter).post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {"type": "message", "channel": "email", "template": str(template.pk), "weight_a": "50"},
                {"type": "wait", "amount": "3", "unit": "days", "business_days": "on"},
            )
        ),
    )

    sequence = Sequence.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sequences/{sequence.pk}/"
    assert sequence.name == "Berlin nurture" and sequence.status == SequenceStatus.DRAFT
    assert sequence.send_window_start.strftime("%H:%M") == "09:00"
    assert sequence.send_window_days == ["mon", "tue", "wed", "thu", "fri"]
    assert sequence.exit_on == ["replied", "hired"]
    steps = list(sequence.steps.order_by("position"))
    assert [(s.type, s.config) for s in steps] == [
        ("message", {"channel": "email"}),
        ("wait", {"days": 3, "business_days": True}),
    ]
    assert steps[0].template == template


def test_add_move_and_remove_redraw_the_form_without_saving(recruiter):
    template = _template(recruiter)
    client = _client(recruiter)
    rows = _steps(
        {"type": "message", "channel": "email", "template": str(template.pk)}, {"type": "task", "title": "Call them"}
    )

    added = client.post("/sequences/new/", _builder_post(**rows, action="add:wait")).content.decode()
    moved = client.post("/sequences/new/", _builder_post(**rows, action="up:1")).content.decode()
    removed = client.post("/sequences/new/", _builder_post(**rows, action="remove:0")).content.decode()

    assert Sequence.objects.count() == 0
    assert added.count('class="sequence-step"') == 3 and 'name="steps-2-type" value="wait"' in added
    assert 'name="steps-0-type" value="task"' in moved and 'name="steps-1-type" value="message"' in moved
    assert 'value="Call them"' in moved and 'name="steps-0-title"' in moved
    assert removed.count('class="sequence-step"') == 1 and 'name="steps-0-type" value="task"' in removed


def test_a_step_error_is_shown_next_to_that_steps_field(recruiter):
    template = _template(recruiter)

    response = _client(recruiter).post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {"type": "message", "channel": "email", "template": str(template.pk)},
                {"type": "message", "channel": "email", "template": ""},
            )
        ),
    )

    assert response.status_code == 422
    body = response.content.decode()
    field = body[
        body.index('id="field-steps-1-template"') : body.index("</div>\n", body.index('id="steps-1-template_error"'))
    ]
    assert "Pick the template this step sends." in field
    assert (
        'id="field-steps-0-template"' in body
        and "field--invalid"
        not in body[body.index('id="field-steps-0-template"') - 40 : body.index('id="field-steps-0-template"')]
    )
    assert Sequence.objects.count() == 0


def test_a_bad_number_is_refused_by_the_form_itself(recruiter):
    response = _client(recruiter).post(
        "/sequences/new/", _builder_post(**_steps({"type": "wait", "amount": "three", "unit": "days"}))
    )

    assert response.status_code == 422
    assert "Enter how long to wait as a whole number." in response.content.decode()
    assert Sequence.objects.count() == 0


def test_a_top_level_error_is_shown_next_to_its_field(recruiter):
    response = _client(recruiter).post("/sequences/new/", _builder_post(name="", window_end="08:00"))

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_name_error"' in body and "Give the sequence a name" in body
    assert 'id="id_window_end_error"' in body and "must end after it starts" in body


def test_variants_b_and_c_become_an_ab_test_with_weights(recruiter):
    a, b, c = _template(recruiter, "A"), _template(recruiter, "B"), _template(recruiter, "C")

    _client(recruiter).post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {
                    "type": "message",
                    "channel": "email",
                    "template": str(a.pk),
                    "weight_a": "50",
                    "template_b": str(b.pk),
                    "weight_b": "30",
                    "template_c": str(c.pk),
                    "weight_c": "20",
                }
            )
        ),
    )

    variants = list(StepVariant.objects.order_by("label").values_list("label", "template_id", "weight"))
    assert variants == [("A", a.pk, 50), ("B", b.pk, 30), ("C", c.pk, 20)]


def test_a_variant_error_is_shown_next_to_the_variant(recruiter):
    a = _template(recruiter, "A")
    sms = _template(recruiter, "Text", channel="sms")

    response = _client(recruiter).post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {
                    "type": "message",
                    "channel": "email",
                    "template": str(a.pk),
                    "weight_a": "50",
                    "template_b": str(sms.pk),
                    "weight_b": "50",
                }
            )
        ),
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="steps-0-template_b_error"' in body and "SMS template" in body


def test_a_branch_target_is_the_step_number_shown(recruiter):
    template = _template(recruiter)

    _client(recruiter).post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {"type": "message", "channel": "email", "template": str(template.pk)},
                {"type": "branch", "on": "replied", "within_days": "3", "then": "4", "else": "3"},
                {"type": "message", "channel": "email", "template": str(template.pk)},
            )
        ),
    )

    branch = Sequence.objects.get().steps.get(position=1)
    assert branch.config == {"on": "replied", "within_days": 3, "then": 3, "else": 2}


def test_a_branch_backwards_is_refused_with_step_numbers(recruiter):
    response = _client(recruiter).post(
        "/sequences/new/",
        _builder_post(**_steps({"type": "tag", "tag": "warm"}, {"type": "branch", "on": "replied", "then": "1"})),
    )

    assert response.status_code == 422
    assert "Choose a later step, from 3 to 3 (3 ends)." in response.content.decode()


def test_editing_shows_the_saved_steps_and_saves_changes(recruiter):
    template = _template(recruiter)
    pool = TalentPoolFactory(name="Silver medalists")
    sequence = _sequence(recruiter, template, status="draft")
    client = _client(recruiter)

    form = client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert f'<option value="{template.pk}" selected>' in form
    assert 'name="steps-1-amount" value="3"' in form

    response = client.post(
        f"/sequences/{sequence.pk}/",
        _builder_post(
            name="Renamed",
            **_steps(
                {"type": "message", "channel": "email", "template": str(template.pk)},
                {"type": "pool", "pool": str(pool.pk)},
            ),
        ),
    )

    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.name == "Renamed"
    assert [(s.type, s.config) for s in sequence.steps.order_by("position")][1] == ("pool", {"pool_id": pool.pk})


def test_activate_pause_and_resume(recruiter):
    sequence = _sequence(recruiter, _template(recruiter), status="draft")
    client = _client(recruiter)

    client.post(f"/sequences/{sequence.pk}/status/", {"status": "active"})
    sequence.refresh_from_db()
    assert sequence.status == SequenceStatus.ACTIVE
    client.post(f"/sequences/{sequence.pk}/status/", {"status": "paused"})
    sequence.refresh_from_db()
    assert sequence.status == SequenceStatus.PAUSED
    page = client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert 'name="status" value="active">Resume' in page
    client.post(f"/sequences/{sequence.pk}/status/", {"status": "active"})
    sequence.refresh_from_db()
    assert sequence.status == SequenceStatus.ACTIVE


def test_activating_without_steps_says_why(recruiter):
    sequence = sequence_create(actor=recruiter, data={"name": "Empty", "steps": []})
    client = _client(recruiter)

    response = client.post(f"/sequences/{sequence.pk}/status/", {"status": "active"}, follow=True)

    assert "Add at least one step before activating" in response.content.decode()
    sequence.refresh_from_db()
    assert sequence.status == SequenceStatus.DRAFT


# --- enrolments -----------------------------------------------------------------------------------------------------


def test_enrol_a_picked_person_and_see_their_state_and_next_step(world):
    recruiter = world["recruiter"]
    template = _template(recruiter)
    sequence = _sequence(recruiter, template)
    client = _client(recruiter)

    picker = client.get(f"/sequences/{sequence.pk}/enrolments/?person_q=Hopper").content.decode()
    assert f'name="candidate_id" value="{world["applicant"].pk}"' in picker

    response = client.post(f"/sequences/{sequence.pk}/enrolments/add/", {"candidate_id": world["applicant"].pk})

    assert response.status_code == 302
    enrolment = Enrolment.objects.get(sequence=sequence)
    assert enrolment.candidate == world["applicant"] and enrolment.status == EnrolmentStatus.ACTIVE
    page = client.get(response["Location"]).content.decode()
    assert "Enrolled 1 person" in page
    row = page[page.index(f'data-enrolment="{enrolment.pk}"') :]
    assert "Grace Hopper" in row and ">Active<" in row
    assert f"Step 1: Send a message · {template.name}" in row


def test_pause_resume_and_take_out_one_person(world):
    recruiter = world["recruiter"]
    sequence = _sequence(recruiter, _template(recruiter))
    sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[world["applicant"].pk])
    enrolment = Enrolment.objects.get()
    client = _client(recruiter)
    base = f"/sequences/{sequence.pk}/enrolments/{enrolment.pk}"

    client.post(f"{base}/pause/")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.PAUSED
    page = client.get(f"/sequences/{sequence.pk}/enrolments/?status=paused").content.decode()
    assert "Paused by hand" in page and "Resume Grace Hopper" in page

    client.post(f"{base}/resume/")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE

    client.post(f"{base}/exit/")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.EXITED
    page = client.get(f"/sequences/{sequence.pk}/enrolments/?status=exited").content.decode()
    assert "Taken out by hand" in page and ">Exited<" in page


def test_an_enrolment_of_another_sequence_is_404(world):
    recruiter = world["recruiter"]
    template = _template(recruiter)
    first, second = _sequence(recruiter, template), _sequence(recruiter, template, name="Second")
    sequence_enrol(actor=recruiter, sequence=first, candidate_ids=[world["applicant"].pk])
    enrolment = Enrolment.objects.get()

    response = _client(recruiter).post(f"/sequences/{second.pk}/enrolments/{enrolment.pk}/exit/")

    assert response.status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE


def test_enrolling_in_a_draft_says_to_activate_first(world):
    recruiter = world["recruiter"]
    sequence = _sequence(recruiter, _template(recruiter), status="draft")

    response = _client(recruiter).post(
        f"/sequences/{sequence.pk}/enrolments/add/", {"candidate_id": world["applicant"].pk}, follow=True
    )

    assert "activate it before enrolling people" in response.content.decode()
    assert Enrolment.objects.count() == 0


def test_enrol_from_the_candidate_list_with_skipped_people_and_reasons(world):
    recruiter = world["recruiter"]
    sequence = _sequence(recruiter, _template(recruiter))
    Candidate.objects.filter(pk=world["bystander"].pk).update(relationship_status=RelationshipStatus.DO_NOT_CONTACT)
    ids = [world["applicant"].pk, world["bystander"].pk]
    client = _client(recruiter)

    listing = client.get("/").content.decode()
    assert 'action="/sequences/enrol/"' in listing and "Enrol in sequence" in listing
    choose = client.post("/sequences/enrol/", {"ids": ids}).content.decode()
    assert "Enrol 2 people in a sequence" in choose and f'<option value="{sequence.pk}">' in choose

    response = client.post("/sequences/enrol/", {"ids": ids, "sequence": sequence.pk}, follow=True)

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/sequences/{sequence.pk}/enrolments/"
    assert "Enrolled 1 person" in body and "Skipped 1 person: Alan Turing is marked do not contact." in body
    assert list(Enrolment.objects.values_list("candidate_id", flat=True)) == [world["applicant"].pk]


def test_the_bulk_page_without_a_sequence_asks_for_one(world):
    recruiter = world["recruiter"]
    _sequence(recruiter, _template(recruiter))

    response = _client(recruiter).post("/sequences/enrol/", {"ids": [world["applicant"].pk], "sequence": ""})

    assert response.status_code == 422
    assert 'id="enrol-sequence_error"' in response.content.decode()


def test_the_enrol_button_is_not_on_the_list_for_a_hiring_manager(world):
    body = _client(world["hiring_manager"]).get("/").content.decode()

    assert "/sequences/enrol/" not in body


# --- statistics -----------------------------------------------------------------------------------------------------


def test_statistics_draw_an_accessible_funnel_and_say_when_nothing_is_significant(recruiter):
    a, b = _template(recruiter, "A"), _template(recruiter, "B")
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "AB",
            "steps": [
                {
                    "type": "message",
                    "channel": "email",
                    "variants": [{"template_id": str(a.pk), "weight": 50}, {"template_id": str(b.pk), "weight": 50}],
                }
            ],
        },
    )

    body = _client(recruiter).get(f"/sequences/{sequence.pk}/stats/").content.decode()

    assert '<svg class="chart"' in body and 'role="img"' in body
    assert '<title id="step-1-funnel-title">Step 1 funnel</title>' in body
    assert '<desc id="step-1-funnel-desc">sent 0;' in body
    assert body.count("Not significant yet") == 3
    assert "Wilson" in body and "Fisher" in body


def test_statistics_without_message_steps_say_what_to_do(recruiter):
    sequence = sequence_create(actor=recruiter, data={"name": "Tags only", "steps": [{"type": "tag", "tag": "warm"}]})

    body = _client(recruiter).get(f"/sequences/{sequence.pk}/stats/").content.decode()

    assert "No message steps yet" in body and '<svg class="chart"' not in body


def test_the_sidebar_links_sequences_and_triggers_for_recruiters_only(world):
    recruiter_page = _client(world["recruiter"]).get("/tasks/").content.decode()
    manager_page = _client(world["hiring_manager"]).get("/tasks/").content.decode()

    assert 'data-nav="sequences"' in recruiter_page and 'data-nav="triggers"' in recruiter_page
    assert "<kbd>q</kbd></dt><dd>Go to sequences" in recruiter_page
    assert 'data-nav="sequences"' not in manager_page and "Go to sequences" not in manager_page


def test_the_picker_lists_everyone_who_matches(world):
    # A second person with the same surname shows both in the picker, so the radio is not preselected.
    recruiter = world["recruiter"]
    make_candidate(actor=recruiter, first_name="Grete", last_name="Hopper", emails=["grete@example.org"])
    sequence = _sequence(recruiter, _template(recruiter))

    picker = _client(recruiter).get(f"/sequences/{sequence.pk}/enrolments/?person_q=Hopper").content.decode()

    assert picker.count('name="candidate_id"') == 3  # two people and "Nobody"


def test_statistics_name_a_significant_winner_and_draw_its_interval(world):
    from django.utils import timezone

    from rapport.automation.models import StepRun
    from rapport.messaging.models import Message

    recruiter = world["recruiter"]
    a, b = _template(recruiter, "A"), _template(recruiter, "B")
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "AB",
            "status": "active",
            "steps": [
                {
                    "type": "message",
                    "channel": "email",
                    "variants": [{"template_id": str(a.pk), "weight": 50}, {"template_id": str(b.pk), "weight": 50}],
                }
            ],
        },
    )
    sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[world["applicant"].pk])
    enrolment, step = Enrolment.objects.get(), sequence.steps.get()
    messages = Message.objects.bulk_create(
        Message(candidate=world["applicant"], to_address="grace@example.org", message_id=f"<{n}@rapport.test>")
        for n in range(80)
    )
    now = timezone.now()
    # A: 2 replies in 40; B: 20 replies in 40.
    StepRun.objects.bulk_create(
        StepRun(
            enrolment=enrolment,
            step=step,
            variant="A" if n < 40 else "B",
            message=message,
            replied_at=now if (n < 2 or 40 <= n < 60) else None,
        )
        for n, message in enumerate(messages)
    )

    body = _client(recruiter).get(f"/sequences/{sequence.pk}/stats/").content.decode()

    verdict = body[body.index('data-metric="replied"') : body.index("</p>", body.index('data-metric="replied"'))]
    assert "Winner: variant B" in verdict and "two-proportion z-test" in verdict
    chart = body[body.index('<title id="step-1-replied-title">') : body.index("</svg>", body.index("step-1-replied"))]
    assert "variant A 5 % of 40" in chart and "variant B 50 % of 40" in chart
    assert "95 % interval" in chart and 'class="chart__interval"' in chart
    assert "50 %, 95 % CI" in body  # the table under the charts
    assert 'class="chart__bar chart__bar--win"' in chart
    assert body.count("Not significant yet") == 2  # opens and clicks: none on either side


def test_a_wait_until_a_weekday_and_time_survives_an_edit(recruiter):
    template = _template(recruiter)
    client = _client(recruiter)
    client.post(
        "/sequences/new/",
        _builder_post(
            **_steps(
                {"type": "wait", "unit": "until", "amount": "", "until_day": "tue", "until_time": "10:30"},
                {"type": "message", "channel": "email", "template": str(template.pk)},
            )
        ),
    )
    sequence = Sequence.objects.get()
    assert sequence.steps.get(position=0).config == {"until": {"weekday": "tue", "time": "10:30"}}

    form = client.get(f"/sequences/{sequence.pk}/").content.decode()

    assert '<option value="until" selected>' in form and '<option value="tue" selected>' in form
    assert 'name="steps-0-until_time" value="10:30"' in form


def test_only_people_who_may_send_messages_are_offered_as_sender(world):
    body = _client(world["recruiter"]).get("/sequences/new/").content.decode()
    senders = body[body.index('id="id_sender"') : body.index("</select>", body.index('id="id_sender"'))]

    assert "Riley Recruiter" in senders and "Avery Admin" in senders
    assert "Harper Manager" not in senders and "Indy Interviewer" not in senders
