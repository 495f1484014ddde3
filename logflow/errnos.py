"""What error codes mean: Darwin's errno values, as Network framework prints them (`[61:
Connection refused]`), and the codes of the other domains CFNetwork names (`Connection 1:
failed to connect 12:8` is getaddrinfo's EAI_NONAME, not errno 8).

The values are those of Apple's SDK headers: sys/errno.h, netdb.h (with Libinfo's
gai_strerror texts), CFNetServices.h, and SecBase.h for the TLS codes.
"""

from __future__ import annotations

import polars as pl

# code: (symbol, the text strerror gives on Darwin)
ERRNOS: dict[int, tuple[str, str]] = {
    1: ("EPERM", "Operation not permitted"),
    9: ("EBADF", "Bad file descriptor"),
    13: ("EACCES", "Permission denied"),
    22: ("EINVAL", "Invalid argument"),
    32: ("EPIPE", "Broken pipe"),
    35: ("EAGAIN", "Resource temporarily unavailable"),
    36: ("EINPROGRESS", "Operation now in progress"),
    38: ("ENOTSOCK", "Socket operation on non-socket"),
    40: ("EMSGSIZE", "Message too long"),
    42: ("ENOPROTOOPT", "Protocol not available"),
    43: ("EPROTONOSUPPORT", "Protocol not supported"),
    45: ("ENOTSUP", "Operation not supported"),
    47: ("EAFNOSUPPORT", "Address family not supported by protocol family"),
    48: ("EADDRINUSE", "Address already in use"),
    49: ("EADDRNOTAVAIL", "Can't assign requested address"),
    50: ("ENETDOWN", "Network is down"),
    51: ("ENETUNREACH", "Network is unreachable"),
    52: ("ENETRESET", "Network dropped connection on reset"),
    53: ("ECONNABORTED", "Software caused connection abort"),
    54: ("ECONNRESET", "Connection reset by peer"),
    55: ("ENOBUFS", "No buffer space available"),
    56: ("EISCONN", "Socket is already connected"),
    57: ("ENOTCONN", "Socket is not connected"),
    60: ("ETIMEDOUT", "Operation timed out"),
    61: ("ECONNREFUSED", "Connection refused"),
    64: ("EHOSTDOWN", "Host is down"),
    65: ("EHOSTUNREACH", "No route to host"),
    89: ("ECANCELED", "Operation canceled"),
    102: ("EOPNOTSUPP", "Operation not supported on socket"),
}


def errno_name(code: pl.Expr) -> pl.Expr:
    """``ECONNREFUSED`` for 61; null for codes not in the table."""
    return _in_table(code, ERRNOS, 0)


def errno_text(code: pl.Expr) -> pl.Expr:
    """``Connection refused`` for 61; null for codes not in the table."""
    return _in_table(code, ERRNOS, 1)


def errno_code(text: pl.Expr) -> pl.Expr:
    """61 for ``Connection refused``: the code of an error logged only as text."""
    return text.replace_strict(
        [text for _, text in ERRNOS.values()], list(ERRNOS), default=None, return_dtype=pl.Int32
    )


# CFNetwork's error domains (CFStreamErrorDomain), as in `failed to connect 1:61`.
POSIX_DOMAIN = 1
TLS_DOMAIN = 3
NETSERVICES_DOMAIN = 10
NETDB_DOMAIN = 12

# getaddrinfo's codes on Darwin (netdb.h), with gai_strerror's texts.
EAI_ERRORS: dict[int, tuple[str, str]] = {
    1: ("EAI_ADDRFAMILY", "Address family for nodename not supported"),
    2: ("EAI_AGAIN", "Temporary failure in name resolution"),
    3: ("EAI_BADFLAGS", "Invalid value for ai_flags"),
    4: ("EAI_FAIL", "Non-recoverable failure in name resolution"),
    5: ("EAI_FAMILY", "ai_family not supported"),
    6: ("EAI_MEMORY", "Memory allocation failure"),
    7: ("EAI_NODATA", "No address associated with nodename"),
    8: ("EAI_NONAME", "nodename nor servname provided, or not known"),
    9: ("EAI_SERVICE", "servname not supported for ai_socktype"),
    10: ("EAI_SOCKTYPE", "ai_socktype not supported"),
    11: ("EAI_SYSTEM", "System error"),
    12: ("EAI_BADHINTS", "Bad hints"),
    13: ("EAI_PROTOCOL", "ai_protocol not supported"),
    14: ("EAI_OVERFLOW", "argument buffer overflow"),
}

# CFNetServices.h.
NETSERVICES_ERRORS: dict[int, tuple[str, str]] = {
    -72000: ("kCFNetServicesErrorUnknown", "An error of unknown type"),
    -72001: ("kCFNetServicesErrorCollision", "Name collision"),
    -72002: ("kCFNetServicesErrorNotFound", "Not found"),
    -72003: ("kCFNetServicesErrorInProgress", "Already in progress"),
    -72004: ("kCFNetServicesErrorBadArgument", "Bad argument"),
    -72005: ("kCFNetServicesErrorCancel", "Cancelled"),
    -72006: ("kCFNetServicesErrorInvalid", "Invalidated"),
    -72007: ("kCFNetServicesErrorTimeout", "Timed out"),
    -72008: (
        "kCFNetServicesErrorMissingRequiredConfiguration",
        "Missing required configuration for local network access",
    ),
}

# SecureTransport's codes (SecBase.h) that connections fail with.
TLS_ERRORS: dict[int, tuple[str, str]] = {
    -9800: ("errSSLProtocol", "SSL protocol error"),
    -9801: ("errSSLNegotiation", "Cipher Suite negotiation failure"),
    -9802: ("errSSLFatalAlert", "Fatal alert"),
    -9805: ("errSSLClosedGraceful", "connection closed gracefully"),
    -9806: ("errSSLClosedAbort", "connection closed via error"),
    -9807: ("errSSLXCertChainInvalid", "invalid certificate chain"),
    -9808: ("errSSLBadCert", "bad certificate format"),
    -9812: ("errSSLUnknownRootCert", "valid cert chain, untrusted root"),
    -9813: ("errSSLNoRootCert", "cert chain not verified by root"),
    -9814: ("errSSLCertExpired", "chain had an expired cert"),
    -9815: ("errSSLCertNotYetValid", "chain had a cert not yet valid"),
    -9816: ("errSSLClosedNoNotify", "server closed session with no notification"),
    -9824: ("errSSLPeerHandshakeFail", "handshake failure"),
    -9825: ("errSSLPeerBadCert", "misc. bad certificate"),
    -9828: ("errSSLPeerCertExpired", "certificate expired"),
    -9829: ("errSSLPeerCertUnknown", "unknown certificate"),
    -9831: ("errSSLPeerUnknownCA", "unknown Cert Authority"),
    -9836: ("errSSLPeerProtocolVersion", "bad protocol version"),
    -9838: ("errSSLPeerInternalError", "internal error"),
    -9843: ("errSSLHostNameMismatch", "peer host name mismatch"),
    -9844: ("errSSLConnectionRefused", "peer dropped connection before responding"),
    -9852: ("errSSLTransportReset", "transport (socket) shutdown, e.g., TCP RST or FIN."),
    -9853: ("errSSLNetworkTimeout", "network timeout triggered"),
    -9858: ("errSSLHandshakeFail", "handshake failed"),
    -9880: ("errSSLATSViolation", "ATS violation"),
}

# Foundation's NSURLErrorDomain (NSURLError.h), named by a proxy's PAC evaluation error.
URL_ERROR_DOMAIN = "NSURLErrorDomain"
URL_ERRORS: dict[int, tuple[str, str]] = {
    -999: ("NSURLErrorCancelled", "cancelled"),
    -1000: ("NSURLErrorBadURL", "bad URL"),
    -1001: ("NSURLErrorTimedOut", "The request timed out."),
    -1002: ("NSURLErrorUnsupportedURL", "unsupported URL"),
    -1003: ("NSURLErrorCannotFindHost", "A server with the specified hostname could not be found."),
    -1004: ("NSURLErrorCannotConnectToHost", "Could not connect to the server."),
    -1005: ("NSURLErrorNetworkConnectionLost", "The network connection was lost."),
    -1006: ("NSURLErrorDNSLookupFailed", "DNS lookup failed"),
    -1009: ("NSURLErrorNotConnectedToInternet", "The Internet connection appears to be offline."),
    -1200: (
        "NSURLErrorSecureConnectionFailed",
        "A TLS error caused the secure connection to fail.",
    ),
}


def url_error_name(code: pl.Expr) -> pl.Expr:
    """``NSURLErrorCannotFindHost`` for -1003."""
    return _in_table(code, URL_ERRORS, 0)


def url_error_text(code: pl.Expr) -> pl.Expr:
    return _in_table(code, URL_ERRORS, 1)


def _in_table(code: pl.Expr, table: dict[int, tuple[str, str]], part: int) -> pl.Expr:
    return code.replace_strict(
        list(table), [entry[part] for entry in table.values()], default=None, return_dtype=pl.String
    )


# Each domain's table; a code without a domain is Network's own, an errno. (Domain 2 is an
# OSStatus in CFStream's numbering and a DNS error in Network's: it is left undecoded.)
BY_DOMAIN = {
    POSIX_DOMAIN: ERRNOS,
    TLS_DOMAIN: TLS_ERRORS,
    NETSERVICES_DOMAIN: NETSERVICES_ERRORS,
    NETDB_DOMAIN: EAI_ERRORS,
}


def error_name(code: pl.Expr, domain: pl.Expr) -> pl.Expr:
    """``EAI_NONAME`` for 8 in domain 12; null for codes no table of their domain has."""
    return _in_domain(code, domain, 0)


def error_text(code: pl.Expr, domain: pl.Expr) -> pl.Expr:
    """What ``code`` means in its ``domain`` (null: errno); null where no table says."""
    return _in_domain(code, domain, 1)


def _in_domain(code: pl.Expr, domain: pl.Expr, part: int) -> pl.Expr:
    looked_up = pl.lit(None, pl.String)
    for number, table in BY_DOMAIN.items():
        in_table = _in_table(code, table, part)
        # `TCP Conn 0x… Failed : error 0:61 [61]`: domain 0 with an errno.
        known = domain.fill_null(POSIX_DOMAIN).replace(0, POSIX_DOMAIN) == number
        looked_up = pl.when(known).then(in_table).otherwise(looked_up)
    return looked_up
