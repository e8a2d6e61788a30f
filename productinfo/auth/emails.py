"""The emails of the account system, and their delivery after the database commit."""

import logging
from dataclasses import dataclass

from flask import current_app

from productinfo import mail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str


def _link(path: str, token: str) -> str:
    # The token travels in the fragment, which browsers never send to a server: it stays
    # out of access logs, and the page posts it in a request body.
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}#token={token}"


def verification(to: str, token: str) -> Email:
    """Write the message that confirms an email address."""
    return Email(
        to=to,
        subject="Confirm your email address",
        text=(
            "Open this link to confirm your email address for the product information app:\n\n"
            f"{_link('/users.signup.verify', token)}\n\n"
            "If you did not create an account, ignore this message.\n"
        ),
    )


def password_reset(to: str, token: str) -> Email:
    """Write the message that carries a password reset link."""
    return Email(
        to=to,
        subject="Reset your password",
        text=(
            "Someone asked to reset the password of your product information account.\n"
            "Open this link within an hour to choose a new password:\n\n"
            f"{_link('/users.resetpass', token)}\n\n"
            "The link works once. If it was not you, ignore this message: "
            "your password stays as it is.\n"
        ),
    )


def deliver(email: Email | None, *, required: bool = False) -> None:
    """Send a message; unless `required`, a mail outage is logged and the request goes on."""
    if email is None:
        return
    try:
        mail.send(to=email.to, subject=email.subject, text=email.text)
    except mail.MailUnavailable:
        if required:
            raise
        log.error("could not send %r; the user can ask for it again", email.subject)
