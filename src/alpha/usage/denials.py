"""What an event's errorCode says about the permission.

AWS authenticates a request, then authorises it (IAM policies, SCPs, resource policies,
boundaries), and only then does the service validate and run it. So:

- no error, or an error raised after authorisation (NoSuchKey, ThrottlingException,
  ValidationException, ConditionalCheckFailedException, a successful DryRun's
  DryRunOperation...): the call got past IAM and shows a permission the principal needs: USED.
  (A throttled or invalid call still shows the workload makes that call.)
- an authorisation failure (AccessDenied, UnauthorizedOperation, ...): DENIED. The principal
  lacks the permission and works without it, so it is reported apart and never counts as used.
- an authentication failure (expired or unknown credentials, bad signature): IAM never looked at
  the permission, and the identity may be garbage: UNAUTHENTICATED, neither used nor denied.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(Enum):
    NONE = "none"
    DENIED = "denied"
    UNAUTHENTICATED = "unauthenticated"
    OTHER = "other"


_DENIED_CODES = frozenset(
    code.lower()
    for code in (
        "AccessDenied",
        "AccessDeniedException",
        "Client.AccessDenied",
        "Client.AccessDeniedException",
        "UnauthorizedOperation",
        "Client.UnauthorizedOperation",
        "UnauthorizedAccess",
        "Client.UnauthorizedAccess",
        "UnauthorizedException",
        "Unauthorized",
        "AuthorizationError",
        "AuthorizationErrorException",
        "AuthorizationException",
        "AuthorizationFailure",
        "Forbidden",
        "ForbiddenException",
        "403",
        "NotAuthorized",
        "NotAuthorizedException",
        "InsufficientPermissions",
        "InsufficientPermissionsException",
        "KMS.AccessDeniedException",
        "VpceAccessDenied",
    )
)

_UNAUTHENTICATED_CODES = frozenset(
    code.lower()
    for code in (
        "InvalidClientTokenId",
        "CloudTrailInvalidClientTokenIdException",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "AuthFailure",
        "Client.AuthFailure",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "InvalidToken",
        "InvalidSignatureException",
    )
)

# Services that answer an authorisation failure with a generic code still say so in the message.
_DENIED_MESSAGES = ("is not authorized to perform", "not authorized to perform this operation")


def classify_error(error_code: str | None, error_message: str | None = None) -> ErrorKind:
    """What the error means for the permission (see the module docstring)."""
    if not error_code:
        return ErrorKind.NONE
    code = error_code.lower()
    if code in _DENIED_CODES:
        return ErrorKind.DENIED
    if code in _UNAUTHENTICATED_CODES:
        return ErrorKind.UNAUTHENTICATED
    if error_message:
        message = error_message.lower()
        if any(phrase in message for phrase in _DENIED_MESSAGES):
            return ErrorKind.DENIED
    return ErrorKind.OTHER


def is_denied(error_code: str | None, error_message: str | None = None) -> bool:
    return classify_error(error_code, error_message) is ErrorKind.DENIED
