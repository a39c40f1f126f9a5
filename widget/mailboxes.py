"""Stored addresses, one row per canonical spelling, and the mailboxes behind them.

Many spellings reach one inbox ("ada+news@", at Gmail "a.da@": addresses.mailbox_of); caps
on what anyone can have mailed to an address count per mailbox, so that inventing spellings
does not multiply them.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .locks import lock_rows
from .models import Address, utcnow
from .vault import vault


def get_or_create_address(email: str) -> Address:
    """The stored address for `email` (canonical spelling: see addresses.py). Never commits."""
    email_hash = vault().lookup_hash(email)
    address = db.session.scalar(select(Address).where(Address.email_hash == email_hash))
    if address is not None:
        if address.mailbox_hash is None:  # stored before mailboxes were counted
            address.mailbox_hash = vault().mailbox_hash(email)
        return address
    address = Address(
        email_hash=email_hash,
        email_enc=vault().encrypt(email),
        mailbox_hash=vault().mailbox_hash(email),
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(address)
    except IntegrityError:  # the same address, twice at once
        address = db.session.scalars(select(Address).where(Address.email_hash == email_hash)).one()
    return address


def spellings(address_id: int, *, unconfirmed: bool = False) -> Any:
    """The ids of the addresses of `address_id`'s mailbox, itself included (alone when its
    mailbox is not known yet); with `unconfirmed`, only those that never confirmed anything
    besides itself: what a stranger may have typed."""
    mailbox = select(Address.mailbox_hash).where(Address.id == address_id).scalar_subquery()
    same = Address.mailbox_hash == mailbox
    if unconfirmed:
        same = and_(same, Address.confirmed_at.is_(None))
    return select(Address.id).where(or_(Address.id == address_id, same))


def lock_mailbox(address_id: int) -> None:
    """Hold the rows of every address of `address_id`'s mailbox until commit: two requests
    for spellings of one inbox count its caps one after the other. Never commits."""
    ids = list(db.session.scalars(spellings(address_id)))
    lock_rows(cast(Table, Address.__table__), Address.generation, ids)
