"""Message templates: the documented merge fields, their static check, and rendering in a Jinja2 sandbox.

Templates are written by users, so they run in a `SandboxedEnvironment` that sees only plain values built from
the documented fields (never model instances) and no globals. `StrictUndefined` makes a field that is missing
at render time an error instead of an empty string. Unknown fields are also caught before saving by walking the
template's syntax tree, so a typo inside an `{% if %}` branch that the preview person never takes is still found.
"""

import difflib
import functools
import html
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import css_inline
import nh3
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from rapport.common.errors import ValidationFailed
from rapport.common.html import markdown_to_safe_html

# The documented context: namespace -> field -> what it holds. The UI's field list and the API docs read this too.
FIELDS: dict[str, dict[str, str]] = {
    "candidate": {
        "first_name": "First name",
        "last_name": "Last name",
        "full_name": "First and last name",
        "email": "Primary email address",
        "phone": "Primary phone number (E.164)",
        "headline": "Headline",
        "current_title": "Current job title",
        "current_company": "Current company",
        "city": "City",
        "region": "Region or state",
        "country": "Country code (ISO 3166-1)",
        "language": "Preferred language code",
        "timezone": "Time zone (IANA name)",
        "source": "Where they came from",
    },
    "job": {
        "title": "Job title",
        "department": "Department",
        "location": "Location",
        "workplace_type": "On-site, Hybrid or Remote",
        "employment_type": "Full-time, Part-time, …",
        "client": "Client name (agencies)",
    },
    "application": {
        "stage": "Current stage name",
        "status": "Active, Rejected, Withdrawn or Hired",
    },
    "recruiter": {
        "name": "The sender's name",
        "first_name": "The sender's first name",
        "email": "The sender's email address",
        "from_name": "The name shown in the From line",
    },
    "company": {
        "name": "Organisation name",
        "website": "Organisation website",
        "address": "Postal address",
        "careers_link": "Career site address",
    },
}
# Filled in per message by the sending layer (portal magic link, one-click unsubscribe); until then they are
# placeholders on RAPPORT_BASE_URL, so previews show where the link will go.
LINKS: dict[str, str] = {
    "portal_link": "The person's candidate portal link",
    "unsubscribe_link": "One-click unsubscribe link",
    "preferences_link": "Communication preferences link",
}
CUSTOM = "custom"  # candidate.custom.<key>: the organisation's custom fields

MAX_OUTPUT = 100_000
MAX_REPEAT = 10_000
_JINJA_LOCALS = {"loop", "caller", "varargs", "kwargs"}


class TemplateInvalid(ValidationFailed):
    """A template that does not parse, names an unknown field, or fails while rendering."""


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def describe(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class Record:
    """A read-only group of fields for templates: attribute and item access to its keys, and nothing else.

    Deliberately not a Mapping: methods such as `items` or `get` would shadow custom fields with those names.
    """

    __slots__ = ("_name", "_values")

    def __init__(self, name: str, values: Mapping[str, Any]):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Merge fields are read-only.")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        # Printing a whole group is always a mistake ({{ job }} instead of {{ job.title }}).
        first = next(iter(self._values), "name")
        raise UndefinedError(f"{self._name} is a group of fields; name one, such as {self._name}.{first}")


def field_value(record: Any, key: str, default: Any = "") -> Any:
    """A field of a Record for Python callers (a method would be visible to templates and shadow a field)."""
    return record[key] if isinstance(record, Record) and key in record else default


class _Environment(SandboxedEnvironment):
    """The sandbox, with no globals and limits on the operators that can build huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("That power is too large.")
            return left**right
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and count * len(seq) > MAX_REPEAT:
                raise SecurityError("That repetition is too large.")
        return left * right

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Only the fields of our own records, never methods of strings and other values.
        return isinstance(obj, Record | LoopContext) and super().is_safe_attribute(obj, attr, value)


def _environment() -> _Environment:
    env = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()
    return env


_ENV = _environment()


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # Compiling is most of a render's cost; a bulk send renders the same few texts for thousands of people.
    return _ENV.from_string(source)


# --- static check ---------------------------------------------------------------------------------------------


def _suggest(path: str, known: Iterable[str]) -> str:
    """A "did you mean" for a misspelt field: among its siblings when the group is right, else any field."""
    known = list(known)
    parent, _, leaf = path.rpartition(".")
    siblings = [k.rpartition(".")[2] for k in known if k.rpartition(".")[0] == parent]
    if siblings:
        close = difflib.get_close_matches(leaf, siblings, n=1, cutoff=0.7)
        return f" (did you mean {parent + '.' if parent else ''}{close[0]}?)" if close else ""
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def known_paths(custom_keys: Iterable[str] = ()) -> list[str]:
    paths = [f"{ns}.{field}" for ns, fields in FIELDS.items() for field in fields]
    paths += [f"candidate.{CUSTOM}.{key}" for key in custom_keys]
    return paths + list(LINKS)


def _chain(node: nodes.Node) -> tuple[nodes.Node, list[str | None], list[nodes.Node]]:
    """For a.b["c"].d: the root node `a`, the names ["b", "c", "d"] (None for a computed key) and the key nodes."""
    names: list[str | None] = []
    computed: list[nodes.Node] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            names.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            names.append(node.arg.value)
        else:
            names.append(None)
            computed.append(node.arg)
        node = node.node
    names.reverse()
    return node, names, computed


def _check_path(root: str, names: list[str | None], custom_keys: set[str]) -> str | None:
    """The message for an unknown field, or None when the path is documented."""
    path = ".".join([root, *(n if n is not None else "[…]" for n in names)])
    known = known_paths(custom_keys)
    if root in LINKS:
        return None if not names else f"unknown field {path}{_suggest(path, known)}"
    if root not in FIELDS:
        return f"unknown field {path}{_suggest(path, known)}"
    if not names:
        return None
    if root == "candidate" and names[0] == CUSTOM:
        if len(names) == 2 and names[1] in custom_keys:
            return None
        if len(names) == 1:
            return None
        hint = "" if custom_keys else " (the organisation has no custom fields yet)"
        return f"unknown field {path}{_suggest(path, known) or hint}"
    if len(names) == 1 and names[0] in FIELDS[root]:
        return None
    return f"unknown field {path}{_suggest(path, known)}"


def _walk(node: nodes.Node, local: set[str], custom_keys: set[str], problems: list[Problem]) -> None:
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        root, names, computed = _chain(node)
        if isinstance(root, nodes.Name):
            if root.name not in local:
                message = _check_path(root.name, names, custom_keys)
                if message:
                    problems.append(Problem(node.lineno, message))
        else:
            attrs = ".".join(n or "[…]" for n in names)
            problems.append(Problem(node.lineno, f"unknown field {attrs}: only the documented fields can be used"))
            _walk(root, local, custom_keys, problems)
        for key in computed:
            _walk(key, local, custom_keys, problems)
        return
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in local:
        message = _check_path(node.name, [], custom_keys)
        if message:
            problems.append(Problem(node.lineno, message))
        return
    if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
        problems.append(Problem(node.lineno, "a template cannot include, import or extend another template"))
        return
    for child in node.iter_child_nodes():
        _walk(child, local, custom_keys, problems)


def check_source(source: str, *, custom_keys: Iterable[str] = ()) -> list[Problem]:
    """Every problem in one template text: a syntax error, or each unknown field with its line."""
    try:
        tree = _ENV.parse(source)
        # Compiling finds what parsing does not, such as a filter that does not exist.
        _ENV.compile(tree)
    except TemplateSyntaxError as exc:
        return [Problem(exc.lineno, _syntax_message(exc))]
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    local |= {n.name for n in tree.find_all(nodes.Macro)} | _JINJA_LOCALS
    problems: list[Problem] = []
    _walk(tree, local, set(custom_keys), problems)
    return problems


def _syntax_message(exc: TemplateSyntaxError) -> str:
    message = (exc.message or "syntax error").rstrip(".")
    if message.startswith("No filter named"):
        return message.replace("No filter named", "unknown filter")
    return f"syntax error: {message}"


def validate_parts(parts: Mapping[str, str], *, custom_keys: Iterable[str] = ()) -> None:
    """Raise TemplateInvalid naming each field (subject, body, variants.fr.body) and line that has a problem."""
    keys = list(custom_keys)
    fields: dict[str, list[str]] = {}
    for field, source in parts.items():
        for problem in check_source(source or "", custom_keys=keys):
            fields.setdefault(field, []).append(problem.describe())
    if fields:
        first_field, messages = next(iter(fields.items()))
        raise TemplateInvalid(f"{first_field}, {messages[0]}", fields=fields)


# --- rendering ----------------------------------------------------------------------------------------------------


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line a render error happened on; Jinja rewrites its frames to point at the template."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render_error_message(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc}"
    if isinstance(exc, UndefinedError):
        text = str(exc)
        match = re.match(r"'None' has no attribute '(\w+)'", text)
        if match:
            return f"this template uses a job or application field ({match.group(1)}), but none was chosen"
        return text
    return f"could not be rendered: {exc}"


def _generate(template: Template, context: Mapping[str, Any], merged: "_MergedValues | None" = None) -> str:
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size + (merged.size if merged is not None else 0) > MAX_OUTPUT:
            raise SecurityError(f"the message would be longer than {MAX_OUTPUT:,} characters")
        chunks.append(chunk)
    return "".join(chunks)


def _render_failed(exc: Exception, field: str) -> TemplateInvalid:
    if isinstance(exc, TemplateSyntaxError):
        message = Problem(exc.lineno, _syntax_message(exc)).describe()
    else:
        message = Problem(_template_line(exc.__traceback__), _render_error_message(exc)).describe()
    return TemplateInvalid(f"{field}, {message}", fields={field: [message]})


_RENDER_ERRORS = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError)


def render_text(source: str, context: Mapping[str, Any], *, field: str) -> str:
    """Render one template text against a context built by `merge_context`; errors name the field and line."""
    try:
        return _generate(_compiled(source or ""), context)
    except _RENDER_ERRORS as exc:
        raise _render_failed(exc, field)


# --- merge values kept out of the Markdown ---------------------------------------------------------------------
# A rendering is split into the text around the merge values, with a stand-in for each value, and the values. The
# text around them is the same for everyone who takes the same branches of the template, so the costly part of an
# email (Markdown, sanitising, layout, CSS inlining) is done once per bulk send and the values are escaped into it.
# It also means a value is always data: a name written as Markdown or HTML shows as typed, never as a link.

_STAND_IN_TOKEN = secrets.token_hex(6)
_STAND_IN = re.compile(rf"rpv{_STAND_IN_TOKEN}i(\d+)z")


class _MergedValues:
    def __init__(self) -> None:
        self.values: list[str] = []
        self.size = 0


_merging: ContextVar[_MergedValues | None] = ContextVar("rapport_merging", default=None)


def _stand_in(value: Any) -> str:
    # str() of a StrictUndefined raises, so a missing field fails here exactly as it does without stand-ins.
    text = value if isinstance(value, str) else str(value)
    merged = _merging.get()
    if merged is None:
        # Jinja folds constant expressions at compile time; those are template text, the same for everyone.
        return text
    merged.values.append(text)
    merged.size += len(text)
    return f"rpv{_STAND_IN_TOKEN}i{len(merged.values) - 1}z"


_SPLIT_ENV = _environment()
_SPLIT_ENV.finalize = _stand_in


@functools.lru_cache(maxsize=256)
def _compiled_split(source: str) -> Template:
    return _SPLIT_ENV.from_string(source)


@dataclass(frozen=True)
class SplitText:
    """A rendering as the text around its merge values (each replaced by a stand-in) and the values themselves."""

    text: str
    values: tuple[str, ...]

    def joined(self) -> str:
        """The plain rendering, values in place."""
        return _STAND_IN.sub(lambda m: self.values[int(m.group(1))], self.text)


def render_split(source: str, context: Mapping[str, Any], *, field: str) -> SplitText:
    """`render_text`, keeping the merge values apart; the same errors, naming the field and line."""
    try:
        template = _compiled_split(source or "")
        merged = _MergedValues()
        token = _merging.set(merged)
        try:
            text = _generate(template, context, merged)
        finally:
            _merging.reset(token)
    except _RENDER_ERRORS as exc:
        raise _render_failed(exc, field)
    return SplitText(text, tuple(merged.values))


# --- language variants -------------------------------------------------------------------------------------------

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def normalise_language(code: str | None) -> str:
    return (code or "").strip().lower().replace("_", "-")


@dataclass(frozen=True)
class TemplateText:
    """The subject and body a person gets: the variant in their language, or the default."""

    language: str
    subject: str
    body: str


def pick_variant(
    *, default_language: str, subject: str, body: str, variants: list[dict[str, str]], language: str | None
) -> TemplateText:
    wanted = normalise_language(language)
    by_language = {normalise_language(v.get("language")): v for v in variants or []}
    for code in (wanted, wanted.split("-")[0]):
        if code and code in by_language and code != normalise_language(default_language):
            variant = by_language[code]
            return TemplateText(code, variant.get("subject", ""), variant.get("body", ""))
    return TemplateText(normalise_language(default_language), subject, body)


# --- email and text output ------------------------------------------------------------------------------------------

_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


@dataclass(frozen=True)
class RenderedMessage:
    channel: str
    language: str
    subject: str
    html: str
    text: str


def markdown_to_text(markdown_source: str) -> str:
    """The plain-text alternative: Markdown already reads well as text; links show their address, HTML goes."""
    markdown_source = html.unescape(nh3.clean(markdown_source, tags=set()))
    text = _MARKDOWN_LINK.sub(
        lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", markdown_source
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def branding() -> dict[str, str]:
    return {
        "brand_colour": settings.RAPPORT_BRAND_COLOUR,
        "logo_url": settings.RAPPORT_LOGO_URL,
        "company_name": settings.RAPPORT_ORG_NAME,
        "company_address": settings.RAPPORT_COMPANY_ADDRESS,
    }


def email_html(*, subject: str, body_markdown: str, signature: str, context: Mapping[str, Any]) -> str:
    """The branded, responsive email: sanitised Markdown in our layout, with every style inlined for mail clients."""
    links = {name: str(context.get(name) or "") for name in LINKS}
    page = _email_page(
        subject,
        body_markdown,
        signature,
        tuple(sorted(branding().items())),
        frozenset(k for k, v in links.items() if v),
    )
    for name, value in links.items():
        if value:
            # The serialiser's attribute escaping, which is all a link in an href gets.
            page = page.replace(_LINK_PLACEHOLDERS[name], value.replace("&", "&amp;").replace('"', "&quot;"))
    return page


# Stand-ins for each person's own links, so the page around them is built once for everyone with the same text.
_LINK_PLACEHOLDERS = {name: f"rapport-link-{name.replace('_', '-')}-{secrets.token_hex(8)}" for name in LINKS}


@functools.lru_cache(maxsize=2048)
def _email_page(
    subject: str, body_markdown: str, signature: str, brand: tuple[tuple[str, str], ...], present: frozenset[str]
) -> str:
    # Markdown, sanitising and CSS inlining are most of a message's cost; in a bulk send the text around the
    # person's links is often the same for many people (the same first name, or no per-person field at all).
    page = render_to_string(
        "messaging/email/layout.html",
        {
            "subject": subject,
            "body_html": mark_safe(markdown_to_safe_html(body_markdown)),  # noqa: S308 - sanitised by nh3
            "signature": signature,
            **{name: _LINK_PLACEHOLDERS[name] if name in present else "" for name in LINKS},
            **dict(brand),
        },
    )
    return _INLINER.inline(page)


def render_message(
    *,
    channel: str,
    language: str,
    subject: str,
    body: str,
    variants: list[dict[str, str]],
    context: Mapping[str, Any],
) -> RenderedMessage:
    """Subject, HTML and text of one message for the person in `context`; SMS and WhatsApp have text only."""
    candidate = context.get("candidate")
    chosen = pick_variant(
        default_language=language,
        subject=subject,
        body=body,
        variants=variants,
        language=field_value(candidate, "language") or None,
    )
    prefix = f"variants.{chosen.language}." if chosen.body is not body else ""
    body_split = render_split(chosen.body, context, field=f"{prefix}body")
    text_body = body_split.joined()
    if channel != "email":
        return RenderedMessage(channel, chosen.language, "", "", text_body.strip() + "\n")
    subject_split = render_split(chosen.subject, context, field=f"{prefix}subject")
    rendered_subject = " ".join(subject_split.joined().split())
    signature = settings.RAPPORT_EMAIL_SIGNATURE or _default_signature(context)
    text = SplitText(markdown_to_text(body_split.text), body_split.values).joined()
    text += f"\n-- \n{signature}\n"
    if context.get("unsubscribe_link"):
        text += f"\nUnsubscribe: {context['unsubscribe_link']}\n"
    html_part = _email_html_split(subject=subject_split, body=body_split, signature=signature, context=context)
    if html_part is None:
        html_part = email_html(subject=rendered_subject, body_markdown=text_body, signature=signature, context=context)
    return RenderedMessage(channel, chosen.language, rendered_subject, html_part, text)


_SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _inside_tag(page: str, position: int) -> bool:
    return page.rfind("<", 0, position) > page.rfind(">", 0, position)


def _email_html_split(*, subject: SplitText, body: SplitText, signature: str, context: Mapping[str, Any]) -> str | None:
    """The email built once for the text around the merge values, with this person's values escaped into it.

    None when a value cannot simply be escaped in: the template wraps one in an autolink (`<{{ link }}>`, which
    Markdown only recognises with the real address), or a value in a link is not a web, mail or phone address
    (sanitising would have removed it); the caller then renders this message the plain way.
    """
    if not body.values and not subject.values:
        return None  # nothing personal: the plain path caches the whole page by its text already
    if f"<rpv{_STAND_IN_TOKEN}" in body.text:
        return None
    page = email_html(
        subject=" ".join(subject.text.split()), body_markdown=body.text, signature=signature, context=context
    )
    values = subject.values + body.values
    offset = len(subject.values)
    unsafe = False

    def fill(match: re.Match[str]) -> str:
        nonlocal unsafe
        index = int(match.group(1))
        # The subject's stand-ins are numbered from 0 as well; the page has the subject only in <title>.
        in_title = page.rfind("<title>", 0, match.start()) > page.rfind("</title>", 0, match.start())
        value = subject.values[index] if in_title else values[offset + index]
        if _inside_tag(page, match.start()):
            lowered = value.strip().lower()
            if ":" in lowered.split("/", 1)[0] and not lowered.startswith(_SAFE_SCHEMES):
                unsafe = True
            return html.escape(value, quote=True)
        return html.escape(value, quote=False)

    filled = _STAND_IN.sub(fill, page)
    return None if unsafe else filled


def _default_signature(context: Mapping[str, Any]) -> str:
    recruiter = context.get("recruiter")
    company = context.get("company")
    lines = [field_value(recruiter, "name"), field_value(company, "name")]
    return "\n".join(line for line in lines if line)
