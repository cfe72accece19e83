"""Settings: the only module that reads the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLANNER_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'planner.db'}",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host/db",
    )
    curricula_dir: Path = Field(
        default=ROOT / "curricula",
        description="Folder of shipped YAML data loaded by `make run` into an empty database",
    )
    academy_name: str = Field(
        default="Academy of the Ministry of Internal Affairs",
        description="Academy name shown in page headers and documents",
    )
    host: str = Field(default="127.0.0.1", description="Address `planner serve` binds to")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `planner serve` listens on")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes of `planner serve`")
    db_pool_size: int = Field(
        default=5, ge=1, le=100, description="PostgreSQL connection pool size per worker"
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long a SQLite writer waits for a lock (ms)"
    )
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error")
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses missing secrets and sets Secure cookies",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs session cookies; required in production (development keeps one in var/)",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Mark the session cookie Secure (default: on in production)"
    )
    public_catalogue: bool = Field(
        default=True,
        description="Anyone may read the registry and approved, non-restricted courses",
    )
    admin_username: str = Field(
        default="admin", description="Name of the first admin created at start"
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="Creates the first admin non-interactively when there are no users",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)"
    )
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed logins of one account within the window before 429"
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed logins from one address within the window before 429"
    )
    login_window_seconds: int = Field(default=900, ge=1, description="Login throttling window")
    session_max_age_seconds: int = Field(
        default=12 * 3600, ge=60, description="Session cookie lifetime"
    )

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if (
                len(key) < 32
                or key.lower() in {"changeme", "secret", "change-me"}
                or "x" * 8 in key
            ):
                raise ValueError(
                    "PLANNER_SECRET_KEY must be a random value of 32+ characters in production"
                )
        return self

    @property
    def secure_cookies(self) -> bool:
        return (
            self.environment == "production" if self.cookie_secure is None else self.cookie_secure
        )

    def session_secret(self) -> str:
        """The configured secret, or in development one generated once and kept under var/."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        import os
        import secrets

        path = ROOT / "var" / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # exclusive create: several workers starting at once agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text(encoding="utf-8").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
