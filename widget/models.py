"""Typed SQLAlchemy models: the whole schema lives here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    false,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import utcnow
from .extensions import Base
from .limits import (
    AUTHOR_MAX,
    BLOCK_VALUE_MAX,
    LOGIN_EMAIL_MAX,
    SITE_NAME_MAX,
    THREAD_KEY_MAX,
    TITLE_MAX,
    URL_MAX,
)

__all__ = ["utcnow"]  # re-exported: models and their callers share one clock


class Moderation(StrEnum):
    """A site's moderation mode."""

    NONE = "none"
    FIRST_TIME = "first-time"
    ALL = "all"


MODERATION_MODES = tuple(mode.value for mode in Moderation)


class CommentStatus(StrEnum):
    """Only ``approved`` is public; ``deleted`` shows as "[deleted]" while it still has
    public replies."""

    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    DELETED = "deleted"


APPROVED, PENDING, SPAM, DELETED = (
    CommentStatus.APPROVED,
    CommentStatus.PENDING,
    CommentStatus.SPAM,
    CommentStatus.DELETED,
)
COMMENT_STATES = tuple(CommentStatus)


class OwnerNotify(StrEnum):
    """What a site's owner hears of (`sites set --notify-owner`)."""

    ALL = "all"  #: every new comment, published or held
    HELD = "held"  #: comments waiting for a moderator
    NONE = "none"


OWNER_NOTIFY_MODES = tuple(mode.value for mode in OwnerNotify)


class OwnerDigest(StrEnum):
    """How the owner's mail comes: one per comment, or gathered every hour or day."""

    OFF = "off"
    HOURLY = "hourly"
    DAILY = "daily"


OWNER_DIGEST_MODES = tuple(mode.value for mode in OwnerDigest)


class Role(StrEnum):
    """Who an admin account is in the conversation: the badge on their comments."""

    OWNER = "owner"
    MODERATOR = "moderator"


ROLES = tuple(role.value for role in Role)


class ErasePolicy(StrEnum):
    """What erasing a reader's data (GDPR art. 17) does to their comments on a site."""

    #: Each comment stays as "[deleted]", without name, website, text, address or IP.
    PLACEHOLDER = "placeholder"
    #: Each comment goes; replies by others keep their text and move up to its parent.
    REMOVE = "remove"


ERASE_POLICIES = tuple(policy.value for policy in ErasePolicy)

#: Every spam defence, by the name `sites set --disable-check NAME` uses.
SPAM_CHECKS = ("honeypot", "form-token", "links", "blocks", "duplicate", "phrases", "classifier")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(SITE_NAME_MAX), unique=True)
    #: Space-separated origins allowed to use the API from a browser.
    origins: Mapped[str] = mapped_column(Text, default="")
    moderation: Mapped[str] = mapped_column(String(16), default=Moderation.FIRST_TIME)
    #: Encrypted owner address, for held-comment mail; None: no owner mail.
    owner_email_enc: Mapped[str | None] = mapped_column(Text)
    #: What the owner hears of: OwnerNotify (all, held, none).
    notify_owner: Mapped[str] = mapped_column(
        String(8), default=OwnerNotify.HELD, server_default="held"
    )
    #: OwnerDigest: a mail per comment (off), or one every hour or day.
    owner_digest: Mapped[str] = mapped_column(
        String(8), default=OwnerDigest.OFF, server_default="off"
    )
    #: A reader whose held comment is approved gets a mail saying so.
    approval_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Threads take no new comments this many days after their first comment (or the
    #: page's publication date when known); None: never closed automatically.
    close_after_days: Mapped[int | None] = mapped_column(Integer)
    max_links: Mapped[int] = mapped_column(Integer, default=3)
    spam_threshold: Mapped[float] = mapped_column(Float, default=0.9)
    #: Spam defences switched off for this site (space-separated names from SPAM_CHECKS).
    disabled_checks: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: Immediate mails a subscriber gets per thread per day; the rest go in that day's digest.
    daily_mail_cap: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    #: Readers may vote on comments (a score, and `top` sorting).
    votes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: ErasePolicy: what a reader's erasure does to their comments here.
    erase_policy: Mapped[str] = mapped_column(
        String(16), default=ErasePolicy.PLACEHOLDER, server_default="placeholder"
    )
    #: Bumped whenever a count of one of its threads moves: cached counts answers are keyed
    #: by it (threads.counts_answer).
    counts_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Messages learned by the site's spam classifier.
    spam_docs: Mapped[int] = mapped_column(Integer, default=0)
    ham_docs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def origin_list(self) -> list[str]:
        return self.origins.split()


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(THREAD_KEY_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    url: Mapped[str] = mapped_column(String(URL_MAX), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Reopened by a moderator: the site's auto-close does not apply to it.
    keep_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Its title was set in the admin: page loads no longer replace it.
    named_by_owner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The article's publication date when known (imports): auto-close counts from it.
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Maintained on every publish/unpublish: counts never scan comments.
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Bumped on every public change; part of the ETag and the page cache key.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_thread_page", "thread_id", "parent_id", "status", "created_at", "id"),
        Index("ix_comments_root", "root_id"),
        Index(
            "ix_comments_thread_top",
            "thread_id",
            "parent_id",
            "status",
            "score",
            "created_at",
            "id",
        ),
        UniqueConstraint("thread_id", "import_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    #: The top-level ancestor (itself for a top-level comment): a page of
    #: threads and all their replies come back in one query.
    root_id: Mapped[int | None] = mapped_column(Integer)
    #: Up votes minus down votes, maintained with every vote (`top` sorting reads it).
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: 0 for a top-level comment; replies deeper than MAX_DEPTH attach higher up.
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    author: Mapped[str] = mapped_column(String(AUTHOR_MAX))
    website: Mapped[str] = mapped_column(String(URL_MAX), default="")
    email_enc: Mapped[str] = mapped_column(Text, default="")
    email_hash: Mapped[str] = mapped_column(String(64), index=True, default="")
    #: Keyed hash for the identicon: not the look-up hash, not reversible.
    avatar_seed: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=APPROVED)
    #: Why the spam checks or the moderation mode held it (space-separated).
    reasons: Mapped[str] = mapped_column(Text, default="")
    spam_score: Mapped[float | None] = mapped_column(Float)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: "all" when its author asked to be notified: they are subscribed once it is published.
    notify: Mapped[str] = mapped_column(String(16), default="", server_default="")
    #: Role of the admin who wrote it (owner, moderator): a badge; None for readers.
    role: Mapped[str | None] = mapped_column(String(16))
    #: Source id of an imported comment ("wordpress:42"): imports are idempotent.
    import_key: Mapped[str | None] = mapped_column(String(200))

    thread: Mapped[Thread] = relationship()


class Address(Base):
    """A subscriber's address: confirmed once (double opt-in), maybe suppressed."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_enc: Mapped[str] = mapped_column(Text)
    #: Keyed hash of the mailbox behind the address (addresses.mailbox_of: no +tag, Gmail's
    #: dots ignored): what a stranger's caps count, however many spellings they type.
    mailbox_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Confirmation mails ever queued: an address that never confirmed gets only a few.
    confirmations_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: "Pause everything for 7 or 30 days": no mail of any thread until then.
    paused_until: Mapped[datetime | None] = mapped_column(DateTime)
    #: Bumped by "unsubscribe from everything": every confirm and manage link made before
    #: stops working.
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Set after a permanent SMTP failure, or when the address owner asked for no mail at
    #: all; nothing is sent to it until removed.
    suppressed_at: Mapped[datetime | None] = mapped_column(DateTime)
    suppression_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MailMode(StrEnum):
    """What a subscriber hears of a thread."""

    REPLIES = "replies"  #: replies below their own comments, at any depth
    ALL = "all"  #: every new comment
    DIGEST = "digest"  #: one mail a day listing the new comments (none when there are none)


MAIL_MODES = tuple(mode.value for mode in MailMode)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("thread_id", "address_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    mode: Mapped[str] = mapped_column(String(16), default=MailMode.ALL, server_default="all")
    #: When its own confirmation link was followed; None: no mail yet (double opt-in).
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    thread: Mapped[Thread] = relationship(lazy="joined")
    address: Mapped[Address] = relationship(lazy="joined")


class DeliveryKind(StrEnum):
    """What a queued mail is."""

    NOTIFY = "notify"
    CONFIRM = "confirm"
    OWNER = "owner"
    #: Many held comments in an hour: one mail listing them instead of one each.
    OWNER_DIGEST = "owner-digest"
    #: A comment waiting for its subscriber's daily digest (sent with the others, once).
    DIGEST = "digest"
    #: The reader's held comment was approved (per site, off by default).
    APPROVED_NOTICE = "approved"
    #: One event posted to one webhook (Delivery.webhook_id, Delivery.event).
    WEBHOOK = "webhook"
    #: A reader asked at /privacy for a link to their data (mailed to the address of
    #: Delivery.address_id, else of Delivery.comment_id's comment).
    PRIVACY = "privacy"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


NOTIFY, CONFIRM, OWNER = DeliveryKind.NOTIFY, DeliveryKind.CONFIRM, DeliveryKind.OWNER
OWNER_DIGEST, DIGEST = DeliveryKind.OWNER_DIGEST, DeliveryKind.DIGEST
APPROVED_NOTICE, WEBHOOK = DeliveryKind.APPROVED_NOTICE, DeliveryKind.WEBHOOK
PRIVACY = DeliveryKind.PRIVACY
QUEUED, SENT, FAILED, DROPPED = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.DROPPED,
)


class Delivery(Base):
    """One queued mail. (subscription, comment) is unique: one mail per reader per comment."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "comment_id"),
        # One post per hook, comment and event, however often the event is raised.
        UniqueConstraint("webhook_id", "comment_id", "event"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=NOTIFY)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    #: What a webhook delivery reports: published, held or spam (WEBHOOK_EVENTS), or test.
    event: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: A worker's claim; a claim that outlives its lease (worker killed) is taken again.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


#: What a webhook can be told of.
WEBHOOK_EVENTS = ("published", "held", "spam")
WEBHOOK_FORMATS = ("generic", "slack", "discord", "matrix", "telegram")


class Webhook(Base):
    """A URL told of a site's new comments, in one chat format or signed JSON (generic)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    #: Encrypted like addresses: a chat URL (Slack, Telegram) is itself a credential.
    url_enc: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16), default="generic")
    #: Space-separated WEBHOOK_EVENTS.
    events: Mapped[str] = mapped_column(Text, default="published held")
    #: Encrypted HMAC key of the generic format's X-Parley-Signature.
    secret_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class Vote(Base):
    """One reader's vote on one comment. The voter is a random key the widget keeps,
    stored as a keyed hash: nobody can learn who voted, and a key votes once."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("comment_id", "voter_hash"),
        Index("ix_votes_comment_ip", "comment_id", "ip_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    #: Keyed hash of the voter's truncated IP: caps the keys one network may vote with.
    ip_hash: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SubscriptionAlias(Base):
    """A subscription merged into another (`threads merge`): links made for the old id
    while it lived — one-click unsubscribe above all — act on the one that took its place.

    SQLite gives a merged-away id again, so an id can have several aliases: each carries
    only links made between its subscription's creation and the merge.
    """

    __tablename__ = "subscription_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_id: Mapped[int] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    #: When the merged-away subscription was made (None: merged before this was kept).
    old_created_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: When it was merged away: links made after are another subscription's.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ImportTombstone(Base):
    """The import key of a comment its reader erased for good (erase policy `remove`):
    importing the same file again must not bring the comment back."""

    __tablename__ = "import_tombstones"
    __table_args__ = (UniqueConstraint("site_id", "import_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    import_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class UsedFormToken(Base):
    """Form tokens already spent: a replayed token is refused."""

    __tablename__ = "used_form_tokens"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Block(Base):
    """A block-list entry: kind is email (keyed hash), domain, ip (CIDR) or word."""

    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("site_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(BLOCK_VALUE_MAX))
    #: An address block's address, encrypted: the admin shows it masked (j•••@example.org).
    email_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SpamToken(Base):
    """Word counts of a site's naive Bayes spam classifier."""

    __tablename__ = "spam_tokens"
    __table_args__ = (UniqueConstraint("site_id", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64))
    spam: Mapped[int] = mapped_column(Integer, default=0)
    ham: Mapped[int] = mapped_column(Integer, default=0)


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(LOGIN_EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    #: In every session cookie of this admin; logout and a password change bump it, which
    #: ends every session made before.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Role: the badge on their comments (owner or moderator).
    role: Mapped[str] = mapped_column(String(16), default=Role.OWNER, server_default="owner")
    #: The name their replies carry.
    name: Mapped[str] = mapped_column(String(AUTHOR_MAX), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AdminSite(Base):
    """An admin limited to some sites: one row per site they may moderate. An admin with
    no row moderates every site."""

    __tablename__ = "admin_sites"

    admin_id: Mapped[int] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class ModerationEvent(Base):
    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    #: "admin:<email>", "mail-link", "system", "reader"
    actor: Mapped[str] = mapped_column(String(340))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


def author_comment_on_site(*criteria: Any) -> Select[int]:
    """One comment id of an author (:email_hash) on a site (:site_id) that meets `criteria`.

    Built once by the checks that ask it of every new comment; bind the two parameters.
    """
    return (
        select(Comment.id)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(
            Thread.site_id == bindparam("site_id"),
            Comment.email_hash == bindparam("email_hash"),
            *criteria,
        )
        .limit(1)
    )
