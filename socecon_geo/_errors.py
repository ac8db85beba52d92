"""The exception family of socecon_geo.

Every error the library raises on purpose is a :class:`SocEconGeoError`. Each also
subclasses the built-in exception a caller would naturally catch (``ValueError`` for bad
input, ``LookupError`` for something that cannot be found, ``OSError`` for a failed
download), so ``except ValueError`` keeps working.

Messages say what was received, what was expected, and how to fix it. Where many
problems can be found at once (a file with several bad columns), they are collected with
:class:`Problems` and raised together, so a user can fix a file in one go.
"""

from __future__ import annotations

__all__ = [
    "CRSMismatchError",
    "DataUnavailableError",
    "DownloadError",
    "InputError",
    "MissingExtraError",
    "NetworkUnreachableError",
    "Problems",
    "SocEconGeoError",
    "SocEconGeoWarning",
    "UnknownAreaError",
]


class SocEconGeoError(Exception):
    """Base class of every error raised by socecon_geo on purpose."""


class InputError(SocEconGeoError, ValueError):
    """Input data is malformed: a file, a column, a value or an argument.

    The message names the file, column and row where it can.
    """


class CRSMismatchError(SocEconGeoError, ValueError):
    """Two frames meet with different or missing coordinate reference systems."""


class UnknownAreaError(SocEconGeoError, LookupError):
    """An area name or code (authority, ward, LSOA) is not known."""


class DataUnavailableError(SocEconGeoError, LookupError):
    """A dataset is neither bundled, cached nor downloadable right now."""


class DownloadError(SocEconGeoError, OSError):
    """A download or web-service request failed after its retries."""


class NetworkUnreachableError(DownloadError):
    """The network or the host cannot be reached at all; raised at once, without retries."""


class MissingExtraError(SocEconGeoError, ImportError):
    """An optional extra is not installed; the message names the ``pip install`` command."""


class SocEconGeoWarning(UserWarning):
    """Something worth knowing happened, but the result is still correct."""


class Problems:
    """Collect validation problems, then raise them all at once.

    Parameters
    ----------
    context : str
        What was being checked, e.g. ``"deprivation file 'File_7.csv'"``; it starts the
        message.

    Examples
    --------
    >>> problems = Problems("register 'orgs.csv'")
    >>> problems.add("column 'Postcode' is missing")
    >>> problems.add("column 'Name' is empty")
    >>> len(problems)
    2
    >>> problems.raise_if_any(InputError)
    Traceback (most recent call last):
    ...
    socecon_geo._errors.InputError: register 'orgs.csv' has 2 problems:
      - column 'Postcode' is missing
      - column 'Name' is empty
    """

    def __init__(self, context: str) -> None:
        self.context = context
        self._items: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem."""
        self._items.append(message)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def message(self, hint: str | None = None) -> str:
        """Return the combined message."""
        if len(self._items) == 1:
            text = f"{self.context}: {self._items[0]}"
        else:
            listed = "\n".join(f"  - {item}" for item in self._items)
            text = f"{self.context} has {len(self._items)} problems:\n{listed}"
        if hint:
            text = f"{text}\n{hint}"
        return text

    def raise_if_any(
        self, error: type[SocEconGeoError] = InputError, hint: str | None = None
    ) -> None:
        """Raise ``error`` with every recorded problem, if there are any.

        Parameters
        ----------
        error : type of SocEconGeoError
            The exception class to raise.
        hint : str, optional
            A closing line saying how to fix the problems.
        """
        if self._items:
            raise error(self.message(hint))
