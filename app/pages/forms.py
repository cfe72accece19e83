"""Helpers for HTML forms: field errors from validation, safe redirects."""

from pydantic import BaseModel, ValidationError

from app.errors import PlannerError


def field_errors(exc: ValidationError | PlannerError) -> dict[str, str]:
    """Field name -> first message, for showing each error next to its field."""
    out: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "__all__"
            out.setdefault(name, err["msg"].removeprefix("Value error, "))
    else:
        for err in exc.errors or []:
            out.setdefault(err["field"], err["message"])
        if not out:
            out["__all__"] = exc.detail
    return out


def parse(model: type[BaseModel], data: dict) -> tuple[BaseModel | None, dict[str, str]]:
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
