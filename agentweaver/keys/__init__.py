"""Model-provider keys kept by the platform for its tenants: encrypted, owner-bound.

Importing this package needs no crypto library: ``LocalKeyVault`` imports ``cryptography``
when first used, and the KMS vault lives in ``agentweaver.aws.kms_vault`` (boto3).
"""

from agentweaver.keys.vault import (
    KeyVault,
    KeyVaultError,
    LocalKeyVault,
    VaultKeySource,
    mask,
    store_provider_key,
)

__all__ = [
    "KeyVault",
    "KeyVaultError",
    "LocalKeyVault",
    "VaultKeySource",
    "mask",
    "store_provider_key",
]
