"""Replies by IMAP, against a real dovecot on loopback: unread mail is filed once, marked read, and server trouble
is logged without stopping the worker."""

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.common import embedded_worker
from rapport.config.settings import _imap_settings
from rapport.messaging import tasks
from rapport.messaging.channels.email.imap import imap_poll
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageDirection
from rapport.messaging.services import message_send
from tests.messaging.conftest import free_port

DOVECOT = "/usr/sbin/dovecot"
USER = "replies"
PASSWORD = "mailbox-secret"
LOGGER = "rapport.messaging.channels.email.imap"


@dataclass
class Dovecot:
    port: int
    log: Path

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        return client

    def deliver(self, raw: bytes) -> int:
        """Put an email in the inbox, unread, as a mail server would; returns its UID."""
        client = self.client()
        try:
            _, data = client.append("INBOX", None, None, raw)
            # "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(data[0].split(b"]")[0].split()[-1])
        finally:
            client.logout()

    def unseen(self) -> list[int]:
        client = self.client()
        try:
            return [int(uid) for uid in client.uid("SEARCH", None, "UNSEEN")[1][0].split()]
        finally:
            client.logout()

    def uidvalidity(self) -> str:
        client = self.client()
        try:
            return client.response("UIDVALIDITY")[1][0].decode()
        finally:
            client.logout()

    def empty(self) -> None:
        client = self.client()
        try:
            if int(client.select("INBOX")[1][0]):
                client.store("1:*", "+FLAGS", "(\\Deleted)")
                client.expunge()
        finally:
            client.logout()


def _users() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid) that dovecot accepts for the user running tests.

    As root (CI), dovecot refuses root for its login processes and its mail processes, so those run as dovecot's
    own unprivileged login user (or nobody) and mail belongs to nobody; as anyone else, everything runs as them.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, grp.getgrgid(os.getegid()).gr_name, me.pw_name, me.pw_uid, me.pw_gid
    try:
        login = pwd.getpwnam("dovenull").pw_name
    except KeyError:
        login = "nobody"
    nobody = pwd.getpwnam("nobody")
    return "root", grp.getgrgid(0).gr_name, login, nobody.pw_uid, nobody.pw_gid


@pytest.fixture(scope="module")
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under pytest's tmp directory: that is private to the test user, and dovecot's processes drop privileges.
    base = Path(tempfile.mkdtemp(prefix="rapport-dovecot-"))
    base.chmod(0o755)
    internal, group, login, mail_uid, mail_gid = _users()
    for name in ("mail", "home"):
        (base / name).mkdir()
        os.chown(base / name, mail_uid, mail_gid)
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/home/%u
}}
# No brute-force penalty: a failed sign-in test would slow down every sign-in after it by seconds.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Dovecot(port=port, log=base / "dovecot.log")
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"dovecot did not start: {process.stderr.read().decode()}")
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    log = server.log.read_text() if server.log.exists() else ""
                    pytest.fail(f"dovecot did not answer on port {port}:\n{log}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot, settings):
    """An empty reply mailbox, with Rapport's IMAP settings pointing at it."""
    dovecot.empty()
    settings.IMAP = _imap_settings(f"imap://{USER}:{PASSWORD}@127.0.0.1:{dovecot.port}/INBOX?timeout=10")
    tasks.imap_throttle.reset()
    yield dovecot
    tasks.imap_throttle.reset()


def email(*, sender: str, subject: str = "Re: Hello", text: str = "Yes, gladly.", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "replies@rapport.test"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return bytes(message)


def test_polled_replies_land_on_the_thread_they_answer(mailbox, recruiter, person):
    sent = message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")
    uid = mailbox.deliver(email(sender="Grace <grace@example.org>", In_Reply_To=sent.message_id))

    filed = imap_poll()

    assert filed == 1
    inbound = InboundEmail.objects.get()
    assert (inbound.source, inbound.external_id) == ("imap", f"{mailbox.uidvalidity()}:{uid}")
    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person and inbound.message.in_reply_to == sent.message_id
    assert inbound.message.text == "Yes, gladly."


def test_mail_from_an_unknown_sender_goes_to_triage(mailbox, db):
    mailbox.deliver(email(sender="Lin <lin@unknown.example>", subject="Your job ad"))

    assert imap_poll() == 1

    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.UNKNOWN_SENDER and inbound.subject == "Your job ad"
    assert not Message.objects.exists()


def test_polled_mail_is_marked_read_and_a_second_poll_stores_nothing_twice(mailbox, person):
    first = mailbox.deliver(email(sender="grace@example.org", subject="One"))
    second = mailbox.deliver(email(sender="grace@example.org", subject="Two"))
    assert mailbox.unseen() == [first, second]

    assert imap_poll() == 2
    assert mailbox.unseen() == []
    assert imap_poll() == 0

    assert InboundEmail.objects.count() == 2
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 2


def test_mail_accepted_but_not_marked_read_before_a_crash_is_not_stored_twice(mailbox, person):
    uid = mailbox.deliver(email(sender="grace@example.org"))
    imap_poll()
    # As if the worker died after filing the email and before marking it read.
    client = mailbox.client()
    client.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
    client.logout()

    assert imap_poll() == 1

    assert mailbox.unseen() == []
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1


def test_a_poll_takes_at_most_limit_emails_and_the_rest_next_time(mailbox, db):
    for n in range(3):
        mailbox.deliver(email(sender=f"someone{n}@unknown.example"))

    assert imap_poll(limit=2) == 2
    assert len(mailbox.unseen()) == 1
    assert imap_poll(limit=2) == 1
    assert InboundEmail.objects.count() == 3


def test_the_worker_polls_the_mailbox_at_most_once_per_interval(mailbox, settings, db):
    settings.IMAP_POLL_SECONDS = 60
    mailbox.deliver(email(sender="one@unknown.example"))

    assert embedded_worker.run_once() >= 1
    mailbox.deliver(email(sender="two@unknown.example"))
    embedded_worker.run_once()

    assert InboundEmail.objects.count() == 1 and len(mailbox.unseen()) == 1

    tasks.imap_throttle.reset()  # a minute later
    embedded_worker.run_once()

    assert InboundEmail.objects.count() == 2


def test_without_imap_url_nothing_is_polled(settings, db):
    settings.IMAP = None

    assert imap_poll() == 0 and tasks.poll_reply_mailbox() == 0


def test_a_wrong_password_is_logged_and_polls_nothing(mailbox, settings, caplog):
    mailbox.deliver(email(sender="one@unknown.example"))
    settings.IMAP = {**settings.IMAP, "password": "wrong"}

    with caplog.at_level("WARNING", logger=LOGGER):
        assert imap_poll() == 0

    assert "could not sign in" in caplog.text and "wrong" not in caplog.text
    assert len(mailbox.unseen()) == 1


def test_a_closed_port_is_logged_and_polls_nothing(settings, caplog, db):
    closed = free_port()
    settings.IMAP = _imap_settings(f"imap://{USER}:{PASSWORD}@127.0.0.1:{closed}/INBOX?timeout=2")

    with caplog.at_level("WARNING", logger=LOGGER):
        assert imap_poll() == 0

    assert f"127.0.0.1:{closed}" in caplog.text


def test_a_mailbox_that_does_not_exist_is_logged_and_polls_nothing(mailbox, settings, caplog):
    settings.IMAP = {**settings.IMAP, "mailbox": "Nowhere"}

    with caplog.at_level("WARNING", logger=LOGGER):
        assert imap_poll() == 0

    assert "Nowhere" in caplog.text


def test_imap_url_is_parsed():
    assert _imap_settings("imaps://me%40acme:p%3Ass@mail.acme.example/Replies%20box") == {
        "host": "mail.acme.example",
        "port": 993,
        "user": "me@acme",
        "password": "p:ss",
        "ssl": True,
        "mailbox": "Replies box",
        "timeout": 30,
    }
    plain = _imap_settings("imap://u:p@127.0.0.1:1143?timeout=5")
    assert (plain["port"], plain["ssl"], plain["mailbox"], plain["timeout"]) == (1143, False, "INBOX", 5)


@pytest.mark.parametrize(
    "url",
    [
        "mail.acme.example",
        "pop3://u:p@mail.acme.example",
        "imap://mail.acme.example/INBOX",
        "imap://u:p@/INBOX",
        "imap://u:p@h:99999",
        "imap://u:p@h?tls=1",
        "imap://u:p@h?timeout=soon",
        "imap://u:p@h/Bo%C3%AEte",
    ],
)
def test_a_bad_imap_url_stops_start_up_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="IMAP_URL"):
        _imap_settings(url)
