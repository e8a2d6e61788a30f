"""Outgoing email behind one small interface: `send(message)`; `deliver` sends an `Email`.

    console   prints each message to standard output; for development only, since
              messages carry one-time links
    smtp      sends through an SMTP server (STARTTLS, implicit TLS or plain)

The backend is chosen by `MAIL_BACKEND`.
"""

import logging
import sys
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app

from productinfo.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class MailUnavailable(ServiceUnavailable):
    code = "mail_unavailable"


@dataclass(frozen=True)
class Email:
    """A plain-text message to one address, written by a service and sent by its route."""

    to: str
    subject: str
    text: str


SHOWN = ("From", "To", "Subject")


class ConsoleMail:
    """Print messages instead of sending them."""

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stdout
        headers = "".join(f"{name}: {value}\n" for name, value in message.items() if name in SHOWN)
        stream.write(f"{'-' * 20} email {'-' * 20}\n{headers}\n{message.get_content()}{'-' * 47}\n")
        stream.flush()


class SmtpMail:
    """Send messages through an SMTP server."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        security: str,
        timeout: float = 10,
    ):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.security, self.timeout = security, timeout

    def send(self, message: EmailMessage) -> None:
        # Imported here: smtplib (with ssl and email parsing) costs a cold start ~10 ms.
        import smtplib

        smtp_class = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.security == "starttls":
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            # The error names the server, never the message: it carries a one-time link.
            log.error("mail to %s:%s failed: %s", self.host, self.port, error)
            raise MailUnavailable("The mail server is unavailable. Retry shortly.") from None


def init_app(app: Flask) -> None:
    """Choose the mail backend from the configuration."""
    config = app.config
    if config["MAIL_BACKEND"] == "smtp":
        backend = SmtpMail(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"],
            security=config["SMTP_SECURITY"],
        )
    else:
        backend = ConsoleMail()
    app.extensions["mail"] = backend


def send(email: Email) -> None:
    """Send a message from `MAIL_FROM`; raise MailUnavailable if it cannot go."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.text)
    current_app.extensions["mail"].send(message)


def deliver(email: Email | None, *, required: bool = False) -> None:
    """Send a message if there is one; unless `required`, an outage is logged and passes."""
    if email is None:
        return
    try:
        send(email)
    except MailUnavailable:
        if required:
            raise
        log.error("could not send %r; the user can ask for it again", email.subject)
