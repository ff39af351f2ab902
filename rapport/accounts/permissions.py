"""What each role may do. Scope (which objects a user can see) lives in the selectors; this is about verbs."""

from enum import StrEnum

from rapport.accounts.models import Role, User
from rapport.common.errors import PermissionDenied


class Capability(StrEnum):
    EDIT_CANDIDATES = "edit_candidates"
    MERGE_CANDIDATES = "merge_candidates"
    ERASE_CANDIDATES = "erase_candidates"
    MANAGE_JOBS = "manage_jobs"
    MOVE_APPLICATIONS = "move_applications"
    ADD_NOTES = "add_notes"
    MANAGE_POOLS = "manage_pools"
    EXPORT = "export"
    IMPORT = "import"
    MANAGE_TEMPLATES = "manage_templates"
    SEND_MESSAGES = "send_messages"
    MANAGE_AUTOMATION = "manage_automation"
    ADMINISTER = "administer"


_GRANTS: dict[str, set[Capability]] = {
    Role.ADMIN: set(Capability),
    Role.RECRUITER: set(Capability) - {Capability.ADMINISTER, Capability.ERASE_CANDIDATES},
    Role.HIRING_MANAGER: {Capability.MOVE_APPLICATIONS, Capability.ADD_NOTES},
    Role.INTERVIEWER: {Capability.ADD_NOTES},
}


def can(user: User, capability: Capability) -> bool:
    return bool(user and user.is_authenticated and user.is_active and capability in _GRANTS.get(user.role, set()))


def ensure(user: User, capability: Capability) -> None:
    if not can(user, capability):
        raise PermissionDenied()
