"""Rendering in the sandbox: the documented fields only, strict about unknown ones, safe HTML and a text part."""

import pytest

from rapport.messaging.rendering import (
    Record,
    TemplateInvalid,
    check_source,
    pick_variant,
    render_message,
    render_text,
    validate_parts,
)


def _context(**overrides):
    context = {
        "candidate": Record(
            "candidate",
            {
                "first_name": "Grace",
                "last_name": "Hopper",
                "language": "",
                "current_company": "",
                "custom": Record("candidate.custom", {"notice_period": "3 months", "relocate": True}),
            },
        ),
        "job": None,
        "application": None,
        "recruiter": Record("recruiter", {"name": "Riley Recruiter", "email": "riley@rapport.test"}),
        "company": Record("company", {"name": "Acme"}),
        "portal_link": "https://rapport.example/portal/",
        "unsubscribe_link": "https://rapport.example/u/unsubscribe",
        "preferences_link": "https://rapport.example/u/preferences",
    }
    context.update(overrides)
    return context


def _email(body, subject="Hello", **context):
    return render_message(
        channel="email", language="en", subject=subject, body=body, variants=[], context=_context(**context)
    )


def test_documented_fields_and_custom_fields_are_merged():
    text = render_text(
        "Hi {{ candidate.first_name }} {{ candidate.last_name }}: {{ candidate.custom.notice_period }}",
        _context(),
        field="body",
    )

    assert text == "Hi Grace Hopper: 3 months"


def test_conditionals_pick_the_branch_for_the_person():
    source = (
        "{% if candidate.current_company %}At {{ candidate.current_company }}{% else %}Between roles{% endif %}"
        "{% if job %} for {{ job.title }}{% endif %}{% if candidate.custom.relocate %}, open to moving{% endif %}"
    )

    without_job = render_text(source, _context(), field="body")
    with_job = render_text(
        source,
        _context(
            job=Record("job", {"title": "Platform Engineer"}),
            candidate=Record(
                "candidate", {"current_company": "Navy", "custom": Record("candidate.custom", {"relocate": False})}
            ),
        ),
        field="body",
    )

    assert without_job == "Between roles, open to moving"
    assert with_job == "At Navy for Platform Engineer"


def test_an_unknown_field_is_reported_with_its_line_even_in_an_untaken_branch():
    source = "Hi {{ candidate.first_name }},\n\n{% if job %}\n{{ candidate.frist_name }}\n{% endif %}"

    problems = check_source(source, custom_keys=["notice_period"])

    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [(4, "unknown field candidate.frist_name")]
    assert "did you mean candidate.first_name?" in problems[0].message


def test_validation_names_the_field_and_the_line():
    with pytest.raises(TemplateInvalid) as caught:
        validate_parts({"subject": "Hi", "body": "One\nTwo\n{{ candidate.frist_name }}"}, custom_keys=[])

    assert caught.value.message.startswith("body, line 3: unknown field candidate.frist_name")
    assert list(caught.value.fields) == ["body"]
    assert caught.value.status == 422


def test_a_syntax_error_names_its_line():
    problems = check_source("Hello\n\n{{ candidate.first_name }")

    assert len(problems) == 1
    assert problems[0].line == 3
    assert problems[0].message.startswith("syntax error")


def test_unknown_custom_fields_and_filters_are_refused():
    assert check_source("{{ candidate.custom.shoe_size }}", custom_keys=["notice_period"])[0].message.startswith(
        "unknown field candidate.custom.shoe_size"
    )
    assert check_source("{{ candidate.first_name|explode }}")[0].message == "unknown filter 'explode'"
    assert check_source("{{ candidate.first_name|upper }} {{ portal_link }}") == []


def test_locals_from_set_and_for_are_allowed():
    source = "{% set name = candidate.first_name %}{% for part in [name] %}{{ part }}{{ loop.index }}{% endfor %}"

    assert check_source(source) == []
    assert render_text(source, _context(), field="body") == "Grace1"


@pytest.mark.parametrize(
    "source",
    [
        "{{ candidate.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ candidate._values }}",
        "{{ candidate.first_name.upper() }}",
        "{{ range(10) }}",
        "{% include 'base.html' %}",
    ],
)
def test_sandbox_escapes_are_refused_before_saving(source):
    assert check_source(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ candidate.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ candidate|attr('__class__') }}",
        "{{ candidate.first_name.__class__.__init__.__globals__ }}",
        "{{ 'x' * 1000000 }}",
        "{{ 9 ** 99999999 }}",
        "{{ job.title }}",
    ],
)
def test_sandbox_escapes_fail_safely_when_rendered(source):
    with pytest.raises(TemplateInvalid) as caught:
        render_text(source, _context(), field="body")

    assert list(caught.value.fields) == ["body"]
    assert "class" not in caught.value.message or "unsafe" in caught.value.message


def test_a_missing_job_is_explained():
    with pytest.raises(TemplateInvalid) as caught:
        render_text("Line one\n{{ job.title }}", _context(), field="subject")

    assert caught.value.fields == {
        "subject": ["line 2: this template uses a job or application field (title), but none was chosen"]
    }


def test_the_persons_language_picks_the_variant_and_falls_back_to_the_default():
    variants = [{"language": "fr", "subject": "Bonjour", "body": "Salut"}]

    def pick(language):
        return pick_variant(default_language="en", subject="Hello", body="Hi", variants=variants, language=language)

    assert pick("fr").body == "Salut"
    assert pick("FR-ca").body == "Salut"
    assert pick("de").body == "Hi"
    assert pick("").body == "Hi"
    assert pick("en").language == "en"


def test_email_html_is_sanitised_branded_and_inlined_with_a_text_alternative():
    body = "Hi **{{ candidate.first_name }}**\n\n<script>alert(1)</script>\n\n[Apply here](https://example.org/apply)"

    message = _email(body, subject="Hello {{ candidate.first_name }}")

    assert message.subject == "Hello Grace"
    assert "<strong>Grace</strong>" in message.html
    assert "<script" not in message.html and "alert(1)" not in message.html
    assert 'style="' in message.html  # the layout's CSS is inlined onto the elements
    assert "@media" in message.html  # responsive rules stay in a style tag, where they can work
    assert "Unsubscribe" in message.html
    assert "Hi **Grace**" in message.text
    assert "Apply here (https://example.org/apply)" in message.text
    assert "<" not in message.text


def test_a_person_whose_name_holds_html_cannot_inject_it():
    evil = Record("candidate", {"first_name": '<img src=x onerror="alert(1)">', "language": ""})

    message = _email("Hi {{ candidate.first_name }}", candidate=evil)

    assert "<img" not in message.html
    assert 'Hi &lt;img src=x onerror="alert(1)"&gt;' in message.html  # shown as typed, never as markup


def _person(first_name, **fields):
    return Record("candidate", {"first_name": first_name, "last_name": "", "language": "", **fields})


def test_a_merge_value_is_data_never_markdown():
    message = _email("Hi {{ candidate.first_name }}", candidate=_person("[click](https://evil.example) **A**"))

    assert "<a " not in message.html.split('class="content"')[1].split("</div>")[0]
    assert "[click](https://evil.example) **A**" in message.html
    assert "Hi [click](https://evil.example) **A**" in message.text


def test_people_with_different_values_share_one_built_page_and_each_get_their_own_values():
    from rapport.messaging.rendering import _email_page

    body = "Hi **{{ candidate.first_name }}**, you work at {{ candidate.current_company }} & more.\n\n- one\n- two"
    _email_page.cache_clear()

    pages = [
        _email(body, subject="For {{ candidate.first_name }}", candidate=_person(name, current_company="O'Brien & Co"))
        for name in ("Ada", "Bo", "Cy")
    ]

    assert _email_page.cache_info().misses == 1 and _email_page.cache_info().hits == 2
    for name, message in zip(("Ada", "Bo", "Cy"), pages, strict=True):
        assert f"<title>For {name}</title>" in message.html
        assert f"Hi <strong>{name}</strong>, you work at O'Brien &amp; Co &amp; more." in message.html
        assert "<li>one</li>" in message.html and "rpv" not in message.html
        assert message.subject == f"For {name}"


def test_a_link_value_goes_into_the_href_escaped_and_an_unsafe_one_is_dropped():
    safe = _email(
        "[Apply]({{ candidate.custom.link }})",
        candidate=_person("A", custom=Record("candidate.custom", {"link": 'https://jobs.example/apply?a=1&b="2"'})),
    )
    unsafe = _email(
        "[Apply]({{ candidate.custom.link }})",
        candidate=_person("A", custom=Record("candidate.custom", {"link": "javascript:alert(1)"})),
    )

    assert 'href="https://jobs.example/apply?a=1&amp;b=&quot;2&quot;"' in safe.html
    assert "javascript" not in unsafe.html and "Apply" in unsafe.html


def test_an_autolinked_value_still_becomes_a_link():
    message = _email(
        "See <{{ candidate.custom.link }}>",
        candidate=_person("A", custom=Record("candidate.custom", {"link": "https://jobs.example/a"})),
    )

    assert '<a href="https://jobs.example/a"' in message.html


def test_sms_is_text_only():
    message = render_message(
        channel="sms", language="", subject="", body="Hi {{ candidate.first_name }}!", variants=[], context=_context()
    )

    assert message.text == "Hi Grace!\n"
    assert message.html == "" and message.subject == ""


def test_an_error_in_a_variant_names_the_variant():
    with pytest.raises(TemplateInvalid) as caught:
        render_message(
            channel="email",
            language="en",
            subject="Hello",
            body="Hi",
            variants=[{"language": "fr", "subject": "Bonjour", "body": "{{ job.title }}"}],
            context=_context(candidate=Record("candidate", {"first_name": "Marie", "language": "fr"})),
        )

    assert list(caught.value.fields) == ["variants.fr.body"]
