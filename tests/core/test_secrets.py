"""A key pasted where a variable NAME belongs is refused at load time, never echoed, never logged (issue 10, item 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rubricate.config import load_config, parse_config
from rubricate.errors import ConfigError
from rubricate.secrets import REDACTED, is_secret_name, redact

KEYS = [
    "sk-proj-4f9Qx7TzLm2Wc8Rb1Yv6Nd3Hk0Ps5Ga",  # OpenAI-style
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",  # Anthropic-style
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",  # Hugging Face token
    "AKIAIOSFODNN7EXAMPLE",  # AWS access key id: capitals and digits only, still a key
    "8F3A9C2B7D1E4F6A0B5C9D8E7F6A5B4C",  # hex key in capitals
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("section", [("llm",), ("collect", "policy")])
def test_key_in_api_key_env_is_refused_without_echo(tmp_path: Path, key: str, section: tuple[str, ...]):
    llm = {"kind": "litellm", "model": "openai/gpt-4o-mini", "api_key_env": key}
    data: dict = llm
    for name in reversed(section):
        data = {name: data}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert key not in message and key[:12] not in message
    assert f"{'.'.join(section)}.api_key_env" in message
    assert "NAME of the environment variable" in message


@pytest.mark.parametrize("bad", ["openai_api_key", "OPENAI-API-KEY", "1KEY", "MY KEY", ""])
def test_anything_but_a_variable_name_is_refused(bad: str):
    with pytest.raises(ConfigError, match="NAME of the environment variable"):
        parse_config({"llm": {"api_key_env": bad}})


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN", "_PRIVATE", "ANTHROPIC_API_KEY_2", "KEY"])
def test_variable_names_are_accepted(name: str):
    assert parse_config({"llm": {"api_key_env": name}}).llm.api_key_env == name


def test_direct_model_validation_does_not_echo_the_key():
    from pydantic import ValidationError

    from rubricate.llm.base import LLMConfig

    with pytest.raises(ValidationError) as err:
        LLMConfig(api_key_env=KEYS[0])
    assert KEYS[0] not in str(err.value)


def test_secret_names_are_whole_words():
    assert all(map(is_secret_name, ["llm.api_key", "x.token", "db.password", "aws.secret_access_key", "llm.apikey", "hf-token"]))
    assert not any(map(is_secret_name, ["llm.max_tokens", "judge.keyword", "rubric.naming.keywords", "verify.workers"]))


def test_redact_keeps_variable_names_and_hides_values():
    params = {"llm.api_key_env": "OPENAI_API_KEY", "x.api_key": "sk-abc", "x.token": "t", "llm.max_tokens": 10,
              "x.password_env": "sk-not-a-name", "x.secret": None}
    assert redact(params) == {"llm.api_key_env": "OPENAI_API_KEY", "x.api_key": REDACTED, "x.token": REDACTED,
                              "llm.max_tokens": 10, "x.password_env": REDACTED, "x.secret": None}


def test_mlflow_params_never_hold_a_secret_named_value(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    from rubricate.tracking import track_run

    cfg = parse_config({"data_dir": str(tmp_path), "llm": {"kind": "litellm", "model": "openai/m", "api_key_env": "OPENAI_API_KEY"}})
    with track_run(cfg, "pipeline", extra_params={"hub.token": "hf_AbCdEfGhIjKlMnOpQrSt", "judge.max_tokens": 64}) as tracker:
        run_id = tracker.run_id
    params = MlflowClient(tracking_uri=cfg.tracking_uri()).get_run(run_id).data.params
    assert params["llm.api_key_env"] == "OPENAI_API_KEY"  # the NAME is useful and harmless
    assert params["hub.token"] == REDACTED and params["judge.max_tokens"] == "64"
    assert not any("hf_AbCd" in v for v in params.values())
