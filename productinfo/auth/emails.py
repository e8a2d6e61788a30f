"""The messages of the account system: their text and links, written for `mail.deliver`."""

from productinfo.mail import Email


def _link(base_url: str, path: str, token: str) -> str:
    # The token travels in the fragment, which browsers never send to a server: it stays
    # out of access logs, and the page posts it in a request body.
    return f"{base_url}{path}#token={token}"


def verification(to: str, token: str, *, base_url: str) -> Email:
    """Write the message that confirms an email address."""
    return Email(
        to=to,
        subject="Confirm your email address",
        text=(
            "Open this link to confirm your email address for the product information app:\n\n"
            f"{_link(base_url, '/users.signup.verify', token)}\n\n"
            "If you did not create an account, ignore this message.\n"
        ),
    )


def password_reset(to: str, token: str, *, base_url: str) -> Email:
    """Write the message that carries a password reset link."""
    return Email(
        to=to,
        subject="Reset your password",
        text=(
            "Someone asked to reset the password of your product information account.\n"
            "Open this link within an hour to choose a new password:\n\n"
            f"{_link(base_url, '/users.resetpass', token)}\n\n"
            "The link works once. If it was not you, ignore this message: "
            "your password stays as it is.\n"
        ),
    )


def new_address(to: str, token: str, *, base_url: str) -> Email:
    """Write the message that confirms the new address an account asked to change to."""
    return Email(
        to=to,
        subject="Confirm your new email address",
        text=(
            "Open this link to make this address the one you sign in with to the product "
            "information app:\n\n"
            f"{_link(base_url, '/users.signup.verify', token)}\n\n"
            "Until then your account keeps its current address. If you did not ask for this, "
            "ignore this message.\n"
        ),
    )


def address_changed(to: str, new: str, token: str, *, base_url: str, days: int) -> Email:
    """Write the notice to an account's former address, with the link that undoes the change."""
    return Email(
        to=to,
        subject="The address of your account was changed",
        text=(
            "Your product information account now signs in with this address instead of "
            f"yours:\n\n    {new}\n\n"
            "If you made this change, there is nothing to do.\n\n"
            f"If you did not, open this link within {days} days to give the account its "
            "address back; every session of the account will end:\n\n"
            f"{_link(base_url, '/users.email.undo', token)}\n\n"
            'Then choose a new password with "Forgot password": whoever changed the address '
            "may know it.\n"
        ),
    )
