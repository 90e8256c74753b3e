"""Meta's flow endpoint encryption, with PyWA's helpers (taken from Meta's own example) and `cryptography`.

A data-exchange request carries an AES-128-GCM key encrypted with the business public key (RSA-OAEP,
SHA-256), the initial vector and the encrypted JSON; the answer is encrypted with the same key and the
vector's bits flipped, base64 encoded.
"""

from __future__ import annotations

import binascii
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pywa.utils import default_flow_request_decryptor, default_flow_response_encryptor

from pywhatsapp.application.flows.ports import DecryptedRequest, KeyPair
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.flows.errors import FlowRequestUnreadable

KEY_SIZE = 2048
"""Meta asks for a 2048-bit RSA key."""
REQUEST_FIELDS = ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")


def _pair(key: rsa.RSAPrivateKey) -> KeyPair:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_key_pem=private, public_key_pem=public)


class PywaFlowCrypto:
    def generate(self) -> KeyPair:
        return _pair(rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE))

    def load(self, private_key_pem: str, passphrase: str | None) -> KeyPair:
        try:
            key = serialization.load_pem_private_key(
                private_key_pem.encode(), password=passphrase.encode() if passphrase else None
            )
        except TypeError as error:
            # cryptography's words: a passphrase given for a plain key, or none for an encrypted one.
            raise InvalidInput(f"the private key and the passphrase do not fit: {error}") from error
        except (ValueError, UnsupportedAlgorithm) as error:
            raise InvalidInput(
                "not a PEM private key, or the passphrase is wrong (-----BEGIN PRIVATE KEY----- or "
                "-----BEGIN ENCRYPTED PRIVATE KEY-----)"
            ) from error
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidInput("Meta encrypts flow requests with RSA: the key must be an RSA key")
        if key.key_size < KEY_SIZE:
            raise InvalidInput(f"Meta asks for an RSA key of at least {KEY_SIZE} bits")
        return _pair(key)

    def decrypt(self, private_key_pem: str, body: Any) -> DecryptedRequest:
        if not isinstance(body, dict) or not all(isinstance(body.get(f), str) for f in REQUEST_FIELDS):
            raise FlowRequestUnreadable(f"a flow data request carries {', '.join(REQUEST_FIELDS)}")
        try:
            data, aes_key, iv = default_flow_request_decryptor(
                body["encrypted_flow_data"],
                body["encrypted_aes_key"],
                body["initial_vector"],
                private_key_pem,
            )
        except (ValueError, TypeError, InvalidTag, binascii.Error, UnicodeDecodeError) as error:
            # ValueError covers RSA decryption failures (a key Meta no longer uses) and bad JSON.
            raise FlowRequestUnreadable(
                f"the request cannot be decrypted with this tenant's flow key ({type(error).__name__})"
            ) from error
        return DecryptedRequest(data=data, aes_key=aes_key, iv=iv)

    def encrypt(self, response: dict[str, Any], request: DecryptedRequest) -> str:
        return str(default_flow_response_encryptor(response, request.aes_key, request.iv))
