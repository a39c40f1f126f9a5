"""What a moderator reads, in words: why a comment was held, what each log entry did, and
addresses masked (enough to recognise one, not to harvest it). One place for all of them."""

from __future__ import annotations

import re

#: Every reason code the spam checks (spam.py) and the moderation modes (moderation.py) give,
#: in words. A test reads those two modules and checks that each code they can give is here.
REASONS = {
    # moderation.initial_status: the site's mode
    "first-comment": "first comment from this address",
    "moderation-all": "this site holds every comment for review",
    # spam.check: the defences
    "honeypot": "filled in the hidden field that only robots see",
    "no-form-token": "sent without the comment form's timestamp",
    "duplicate": "the same text from this address within ten minutes",
    "too-many-links": "more links than allowed",
    "blocked-address": "from a blocked address",
    "blocked-domain": "from a blocked mail domain",
    "blocked-ip": "from a blocked IP range",
    "blocked-word": "matched a blocked word",
    "spam-phrases": "phrases common in spam",
    "classifier": "the spam score learned from your decisions is high",
}

#: The queue's views, in words.
STATUSES = {
    "pending": "Pending",
    "approved": "Approved",
    "spam": "Spam",
    "deleted": "Deleted",
    "all": "All",
}

#: Log entries' actions, in words (anything else is shown as it is stored).
ACTIONS = {
    "approve": "approved",
    "spam": "marked spam",
    "delete": "deleted",
    "restore": "restored",
    "edit": "edited",
    "reply": "replied",
    "block-email": "blocked an address",
    "block-domain": "blocked a mail domain",
    "block-ip": "blocked an IP range",
    "block-word": "blocked a word",
    "unblock-email": "unblocked an address",
    "unblock-domain": "unblocked a mail domain",
    "unblock-ip": "unblocked an IP range",
    "unblock-word": "unblocked a word",
    "close-thread": "closed a thread",
    "reopen-thread": "reopened a thread",
    "move-thread": "moved a thread",
    "merge-thread": "merged threads",
    "erase-reader": "erased a reader's data",
    "add-site": "added the site",
    "settings": "changed the settings",
    "add-webhook": "added a webhook",
    "remove-webhook": "removed a webhook",
}

#: The outbox's kinds of delivery, in words.
DELIVERIES = {
    "notify": "New comment to a subscriber",
    "confirm": "Subscription confirmation",
    "owner": "Owner's mail",
    "owner-digest": "Owner's digest",
    "digest": "Subscriber's digest",
    "approved": "Comment approved, to its author",
    "webhook": "Webhook post",
    "privacy": "Link to a reader's data",
}

#: Masks stand in for the hidden part of an address.
MASK = "•••"
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def reason_words(reasons: str) -> list[str]:
    """ "first-comment too-many-links" -> ["first comment from this address", …]."""
    return [REASONS.get(code, code) for code in reasons.split()]


def action_words(action: str) -> str:
    return ACTIONS.get(action, action)


def mask_email(email: str) -> str:
    """ "jane@example.org" -> "j•••@example.org"."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{MASK}@{domain}" if domain else MASK


def mask_addresses_in(text: str) -> str:
    """Any address inside a text (an SMTP server's answer quotes the recipient) masked."""
    return _ADDRESS.sub(lambda found: mask_email(found.group(0)), text)
