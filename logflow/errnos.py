"""Darwin errno values as Network framework prints them (`[61: Connection refused]`)."""

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
    return code.replace_strict(
        list(ERRNOS), [name for name, _ in ERRNOS.values()], default=None, return_dtype=pl.String
    )


def errno_text(code: pl.Expr) -> pl.Expr:
    """``Connection refused`` for 61; null for codes not in the table."""
    return code.replace_strict(
        list(ERRNOS), [text for _, text in ERRNOS.values()], default=None, return_dtype=pl.String
    )


def errno_code(text: pl.Expr) -> pl.Expr:
    """61 for ``Connection refused``: the code of an error logged only as text."""
    return text.replace_strict(
        [text for _, text in ERRNOS.values()], list(ERRNOS), default=None, return_dtype=pl.Int32
    )
