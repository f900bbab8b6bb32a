"""What counts as a secret in a config, and how it is kept out of logs, MLflow params and error messages.

Keys live in environment variables; a config only names the variable (`api_key_env: OPENAI_API_KEY`).
Two checks keep a pasted key from travelling further: `check_env_var_name` refuses a value that is not a
variable name (or has the shape of a key) at load time, without echoing it; `redact` blanks every value
whose field name says key, token, secret or password before anything is logged.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

ENV_VAR_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
REDACTED = "<redacted>"

# Whole words of a field name (split at `.`, `_`, `-`) that mark its value as secret. Whole words, so that
# `max_tokens` (a number of tokens) is not one.
_SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "credential", "credentials"})
# Shapes of real keys that also match ENV_VAR_NAME: AWS access key ids, and long runs of capitals and digits
# with no underscore (variable names are words joined by underscores; keys are not).
_KEY_SHAPES = (re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}"), re.compile(r"(?=[A-Z0-9]*[0-9])[A-Z0-9]{20,}"))


def is_secret_name(name: str) -> bool:
    """True when a config field name (`llm.api_key`, `tracking.token`, ...) says its value is a secret."""
    return any(word in _SECRET_WORDS for word in re.split(r"[._\-]", name.lower()))


def looks_like_env_var_name(value: str) -> bool:
    return ENV_VAR_NAME.fullmatch(value) is not None and not any(shape.fullmatch(value) for shape in _KEY_SHAPES)


def check_env_var_name(value: str, example: str = "OPENAI_API_KEY") -> str:
    """`value` if it is an environment variable name; else ValueError that does not contain the value."""
    if not looks_like_env_var_name(value):
        raise ValueError(
            f"must be the NAME of the environment variable that holds the key (capitals, digits and underscores, "
            f"like {example}), not the key itself; the value given is not a variable name and is not shown here. "
            f"Put the key in the environment (export {example}=...) and write `{example}` in the config"
        )
    return value


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with the value of every secret-named field replaced by REDACTED.

    A field ending in `_env` (such as `api_key_env`) names a variable, not a secret: its value is kept when it
    is a variable name, which the config check guarantees; anything else under such a name is redacted too.
    """
    out: dict[str, Any] = {}
    for name, value in params.items():
        names_a_variable = name.endswith("_env") and isinstance(value, str) and looks_like_env_var_name(value)
        out[name] = REDACTED if is_secret_name(name) and value is not None and not names_a_variable else value
    return out
