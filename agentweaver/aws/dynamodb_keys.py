"""``DynamoDBStore``'s platform tables: API keys, provider keys and idempotency claims.

A mixin so the store module stays about workflows and executions. Every answer the contract
makes atomic here comes from one conditional write, never a read followed by a write.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from agentweaver.aws.dynamodb_codec import compound, dynamo_errors
from agentweaver.aws.dynamodb_models import ApiKeyItem, Models, ProviderKeyItem
from agentweaver.exceptions import StoreConflict, StoreError
from agentweaver.stores.records import ApiKeyRecord, ProviderKeyRecord

__all__ = ["KeyTables"]

_CLAIM_ATTEMPTS = 5


def _api_key(i: ApiKeyItem) -> ApiKeyRecord:
    last = None if i.last_used_at is None else float(i.last_used_at)
    return ApiKeyRecord(
        i.owner, i.key_id, i.key_hash, i.name, i.prefix, [str(s) for s in i.scopes or []],
        float(i.created_at), last,
    )  # fmt: skip


def _provider_key(i: ProviderKeyItem) -> ProviderKeyRecord:
    return ProviderKeyRecord(i.owner, i.provider, i.ciphertext, i.hint, float(i.updated_at))


class KeyTables:
    """Mixed into ``DynamoDBStore``, which binds ``models`` to its tables."""

    models: Models

    # platform API keys: hash key ``key_hash``, GSI ``by_owner`` (owner, key_id)

    def save_api_key(self, record: ApiKeyRecord) -> None:
        """Put by ``key_hash``, unless that hash is another owner's (``StoreConflict``)."""
        r, k = record, self.models.api_keys
        item = k(
            r.key_hash, owner=r.owner, key_id=r.key_id, name=r.name, prefix=r.prefix,
            scopes=list(r.scopes), created_at=r.created_at or time.time(),
            last_used_at=r.last_used_at,
        )  # fmt: skip
        try:
            with dynamo_errors("save API key"):
                item.save(condition=k.key_hash.does_not_exist() | (k.owner == r.owner))
        except StoreConflict:
            raise StoreConflict("this API key hash already belongs to another owner") from None

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        k = self.models.api_keys
        with dynamo_errors("get API key"):
            try:
                return _api_key(k.get(key_hash, consistent_read=True))
            except k.DoesNotExist:
                return None

    def list_api_keys(self, owner: str) -> list[ApiKeyRecord]:
        """Oldest first; from a GSI, so a key saved a moment ago may be missing (eventual)."""
        with dynamo_errors("list API keys"):
            records = [_api_key(i) for i in self.models.api_keys.by_owner.query(owner)]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    def delete_api_key(self, owner: str, key_id: str) -> bool:
        """Find the key by (owner, key_id) on the GSI, delete it by hash if still the owner's
        (so, like ``list_api_keys``, it may miss a key saved a moment ago)."""
        k = self.models.api_keys
        deleted = False
        with dynamo_errors("delete API key"):
            found = list(k.by_owner.query(owner, k.key_id == key_id))
        for item in found:
            try:
                with dynamo_errors("delete API key"):
                    item.delete(condition=k.owner == owner)
                deleted = True
            except StoreConflict:  # gone meanwhile
                pass
        return deleted

    def touch_api_key(self, key_hash: str, when: float) -> None:
        """Set ``last_used_at`` if the key exists and ``when`` is later (never creates one)."""
        k = self.models.api_keys
        newer = k.last_used_at.does_not_exist() | (k.last_used_at < when)
        try:
            with dynamo_errors("touch API key"):
                k(key_hash).update(
                    actions=[k.last_used_at.set(when)], condition=k.key_hash.exists() & newer
                )
        except StoreConflict:
            pass

    # provider keys: (owner, provider)

    def put_provider_key(self, record: ProviderKeyRecord) -> None:
        r = record
        item = self.models.provider_keys(
            r.owner, r.provider, ciphertext=r.ciphertext, hint=r.hint,
            updated_at=r.updated_at or time.time(),
        )  # fmt: skip
        with dynamo_errors("put provider key"):
            item.save()

    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None:
        p = self.models.provider_keys
        with dynamo_errors("get provider key"):
            try:
                return _provider_key(p.get(owner, provider, consistent_read=True))
            except p.DoesNotExist:
                return None

    def list_provider_keys(self, owner: str) -> list[ProviderKeyRecord]:
        """Sorted by provider (the range key)."""
        with dynamo_errors("list provider keys"):
            items = self.models.provider_keys.query(owner, consistent_read=True)
            return [_provider_key(i) for i in items]

    def delete_provider_key(self, owner: str, provider: str) -> bool:
        p = self.models.provider_keys
        try:
            with dynamo_errors("delete provider key"):
                p(owner, provider).delete(condition=p.provider.exists())
        except StoreConflict:
            return False
        return True

    # idempotency: hash key ["owner", "key"]

    def claim_idempotency_key(
        self, owner: str, key: str, execution_id: str, expires_at: float
    ) -> str:
        """A put conditioned on "no claim, or an expired one": DynamoDB lets exactly one of
        concurrent claimers through; the others read the winner. The ``expires_at`` TTL lets
        DynamoDB delete old claims; ``valid_until`` is the exact expiry checked here."""
        i = self.models.idempotency
        claim = compound(owner, key)
        ttl = datetime.fromtimestamp(math.ceil(expires_at), UTC)
        for _ in range(_CLAIM_ATTEMPTS):
            item = i(claim, owner=owner, execution_id=execution_id, valid_until=expires_at,
                     expires_at=ttl)  # fmt: skip
            try:
                with dynamo_errors("claim idempotency key"):
                    item.save(condition=i.claim.does_not_exist() | (i.valid_until <= time.time()))
                return execution_id
            except StoreConflict:
                pass
            with dynamo_errors("read idempotency claim"):
                try:
                    current = i.get(claim, consistent_read=True)
                except i.DoesNotExist:
                    continue  # deleted between our put and this read: claim again
            if float(current.valid_until) > time.time():
                return current.execution_id
        raise StoreError("claim idempotency key: the claim kept changing; try again")

    def release_idempotency_key(self, owner: str, key: str, execution_id: str) -> bool:
        """A delete conditioned on the claim still being ``execution_id``'s."""
        i = self.models.idempotency
        try:
            with dynamo_errors("release idempotency key"):
                i(compound(owner, key)).delete(condition=i.execution_id == execution_id)
        except StoreConflict:
            return False
        return True
