"""Sign-in, sign-out and the personal settings page (profile and API tokens)."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts import services
from rapport.accounts.forms import ApiTokenForm, ProfileForm, SignInForm
from rapport.accounts.selectors import api_tokens_active
from rapport.common.errors import ApplicationError
from rapport.common.web import add_service_errors, safe_next

# Failed sign-ins allowed per address+email (guessing one account) and per address (spraying many accounts).
SIGN_IN_LIMIT_PER_ACCOUNT = 5
SIGN_IN_LIMIT_PER_ADDRESS = 30
SIGN_IN_WINDOW_SECONDS = 15 * 60


def _client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded-for header is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _throttle_keys(request: HttpRequest, email: str) -> tuple[str, str]:
    address = _client_address(request)
    account = hashlib.sha256(f"{address}|{email.strip().lower()}".encode()).hexdigest()
    return f"signin:acct:{account}", f"signin:addr:{hashlib.sha256(address.encode()).hexdigest()}"


def _is_throttled(keys: tuple[str, str]) -> bool:
    account_key, address_key = keys
    return (cache.get(account_key, 0) >= SIGN_IN_LIMIT_PER_ACCOUNT) or (
        cache.get(address_key, 0) >= SIGN_IN_LIMIT_PER_ADDRESS
    )


def _record_failure(keys: tuple[str, str]) -> None:
    for key in keys:
        # add() starts the window on the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, SIGN_IN_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, SIGN_IN_WINDOW_SECONDS)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        keys = _throttle_keys(request, email)
        if _is_throttled(keys):
            minutes = SIGN_IN_WINDOW_SECONDS // 60
            form.add_error(
                None,
                f"Too many sign-in attempts. For your security, wait {minutes} minutes and try again, "
                "or ask an admin to reset your password.",
            )
            status = 429
        else:
            user = authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                _record_failure(keys)
                form.add_error(None, "That email and password do not match an active account.")
                status = 422
            else:
                cache.delete(keys[0])
                login(request, user)
                return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You have been signed out.")
    return redirect("accounts:login")


def _settings_context(request: HttpRequest, **extra: object) -> dict:
    tokens = api_tokens_active(user=request.user)
    context = {
        "profile_form": ProfileForm(
            initial={
                "name": request.user.name,
                "email_from_name": request.user.email_from_name,
                "email_reply_to": request.user.email_reply_to,
            }
        ),
        "token_form": ApiTokenForm(),
        "tokens": tokens,
        "new_token": None,
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.user_update_profile(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    email_from_name=form.cleaned_data["email_from_name"],
                    email_reply_to=form.cleaned_data["email_reply_to"],
                )
            except ApplicationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:settings")
        return render(request, "accounts/settings.html", _settings_context(request, profile_form=form), status=422)
    return render(request, "accounts/settings.html", _settings_context(request))


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            # The raw value exists only in this response: it is never stored, so it cannot be shown again.
            context = _settings_context(request, new_token={"token": token, "raw": raw})
            template = "accounts/_tokens.html" if request.htmx else "accounts/settings.html"
            return render(request, template, context)
    context = _settings_context(request, token_form=form)
    template = "accounts/_tokens.html" if request.htmx else "accounts/settings.html"
    return render(request, template, context, status=422)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=request.user, token_id=token_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The token is revoked; anything using it will stop working.")
    if request.htmx:
        return render(request, "accounts/_tokens.html", _settings_context(request))
    return redirect(reverse("accounts:settings") + "#tokens")


def settings_redirect(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:settings", permanent=False)
