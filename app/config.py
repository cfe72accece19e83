"""Settings: the only module that reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
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
    db_pool_size: int = Field(default=5, ge=1, le=100, description="PostgreSQL connection pool size per worker")
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long a SQLite writer waits for a lock (ms)"
    )
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error")


@lru_cache
def get_settings() -> Settings:
    return Settings()
