"""API: the caller and the team."""

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from rapport.accounts.models import Role, User
from rapport.api.schemas import PageParams, keyset_page, listing, responses

router = Router(tags=["Team"])


class UserOut(Schema):
    id: str
    email: str
    name: str
    role: Literal["admin", "recruiter", "hiring_manager", "interviewer"]

    @staticmethod
    def resolve_id(obj: User) -> str:
        return str(obj.pk)


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class UserParams(PageParams):
    role: Literal["admin", "recruiter", "hiring_manager", "interviewer"] | None = None


@router.get("/me", response=responses({200: UserOut}), summary="The caller")
def me(request: HttpRequest) -> User:
    """The user the token (or session) belongs to: `{id, email, name, role}`."""
    return request.auth


@router.get(
    "/users",
    response=responses({200: UserPage}, 400, 422),
    summary="The team",
    description=listing(
        "Active team members, oldest account first, for picking owners, recruiters and hiring managers by id."
    ),
)
def list_users(request: HttpRequest, params: Query[UserParams]) -> dict:
    qs = User.objects.filter(is_active=True)
    if params.role:
        qs = qs.filter(role=Role(params.role))
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor, newest_first=False)
    return {"items": items, "next_cursor": next_cursor}
