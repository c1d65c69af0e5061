"""Harness exceptions: a small flat tree, like requests' exceptions.

Wrong *product* behaviour raises ``AssertionError`` (Allure: failed).
Everything here means the harness or its environment broke (Allure: broken).
"""


class CrucibleError(Exception):
    """Base of every harness or environment failure."""


class ComposeError(CrucibleError):
    """The compose file cannot be used: bad YAML, unsupported key, bad reference."""


class EngineUnavailable(CrucibleError):
    """No Docker engine answers and none could be started."""


class BaseImageError(CrucibleError):
    """The base image is missing and could not be made."""


class BuildError(CrucibleError):
    """An image build failed."""


class StartupError(CrucibleError):
    """A service could not be started or never became ready."""


class ServiceNotFound(CrucibleError):
    """A step named a service that the stack does not have."""


class HttpError(CrucibleError):
    """An HTTP call could not be made at all (connection refused, timeout)."""


class TestDataError(CrucibleError):
    """A feature's test data is unusable: an unset variable, invalid JSON in a docstring, a bad table."""

    __test__ = False  # a harness exception, not a pytest test class


class BrokerError(CrucibleError):
    """The message broker cannot be reached or refused an operation."""


class DatabaseError(CrucibleError):
    """A service's database cannot be reached, or a query could not run."""


class SettingsError(CrucibleError):
    """The settings file, an environment override or a -D value is unusable."""


class ContractError(CrucibleError):
    """A contract cannot be used: an OpenAPI document that cannot be read, a pact file that is missing or stale."""


class ContractViolation(AssertionError):
    """A service broke a contract: an exchange its OpenAPI document does not allow, or a pact it does not honour.

    Wrong product behaviour, so an ``AssertionError`` (Allure: failed), in the report's *Contract violations*.
    """


class ReportError(CrucibleError):
    """The Allure report could not be generated, or is not safe to forward."""
