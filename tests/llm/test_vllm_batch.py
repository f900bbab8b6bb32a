"""The vllm_batch file contract, against a stand-in executable that honours `run-batch -i -o --model`."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from rubricate.errors import ConfigError
from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMConfig, LLMRequest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def vllm_exe(tmp_path: Path, monkeypatch) -> Path:
    """An executable named like vLLM's, running the stand-in with this interpreter."""
    exe = tmp_path / "venv-vllm" / "bin" / "vllm"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fake_vllm.py'} \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_VLLM_CALLS", str(tmp_path / "calls.jsonl"))
    return exe


def cfg_for(exe: Path, tmp_path: Path, **kw) -> LLMConfig:
    return LLMConfig(**({"kind": "vllm_batch", "model": "Qwen/Tiny", "vllm_executable": str(exe), "batch_dir": str(tmp_path / "batches"),
                         "vllm_args": ["--max-model-len", "4096"]} | kw))


def req(key: str, text: str, **kw) -> LLMRequest:
    return LLMRequest(key=key, messages=({"role": "system", "content": "SHARED RUBRIC"}, {"role": "user", "content": text}), **kw)


def calls(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_one_batch_written_in_order_and_results_matched_back(vllm_exe, tmp_path):
    schema = {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"], "additionalProperties": False}
    backend = get_backend(cfg_for(vllm_exe, tmp_path))
    requests = [req("a", "first trace", response_schema=schema), req("b", "please FAIL"), req("c", "SKIP me"), req("d", "last trace", sample_index=1)]
    out = backend.complete(requests)
    assert [r.key for r in out] == ["a", "b", "c", "d"]
    assert out[0].text == "answer to first trace" and out[0].reasoning == "pondering"
    assert out[0].prompt_tokens == 2 and out[0].completion_tokens == 3
    assert out[3].text == "answer to last trace"
    assert not out[1].ok and "status 400" in out[1].error
    assert not out[2].ok and "no result line" in out[2].error
    [call] = calls(tmp_path)  # one process for the whole batch, never one per prompt
    assert call[:1] == ["run-batch"] and call[call.index("--model") + 1] == "Qwen/Tiny" and call[-2:] == ["--max-model-len", "4096"]
    in_path = Path(call[call.index("-i") + 1])
    lines = [json.loads(line) for line in in_path.read_text().splitlines()]
    assert [line["body"]["messages"][-1]["content"] for line in lines] == ["first trace", "please FAIL", "SKIP me", "last trace"]
    assert all(line["body"]["messages"][0]["content"] == "SHARED RUBRIC" for line in lines)  # shared prefix first
    assert lines[0]["body"]["response_format"] == {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}
    assert lines[3]["body"]["seed"] == 1 and "response_format" not in lines[1]["body"]
    assert len({line["custom_id"] for line in lines}) == 4


def test_batches_split_by_batch_size(vllm_exe, tmp_path):
    out = get_backend(cfg_for(vllm_exe, tmp_path, batch_size=2)).complete([req(f"k{i}", f"t{i}") for i in range(5)])
    assert [r.text for r in out] == [f"answer to t{i}" for i in range(5)]
    assert len(calls(tmp_path)) == 3


def test_a_failed_run_makes_every_line_an_error_naming_the_log(vllm_exe, tmp_path):
    out = get_backend(cfg_for(vllm_exe, tmp_path, model="broken")).complete([req("a", "x"), req("b", "y")])
    assert all(not r.ok and "exited with code 3" in r.error and "CUDA out of memory" in r.error for r in out)


def test_cached_rerun_does_not_start_vllm(vllm_exe, tmp_path, store):
    cfg = cfg_for(vllm_exe, tmp_path)
    first = get_backend(cfg, store=store).complete([req("a", "one"), req("b", "FAIL two")])
    second = get_backend(cfg, store=store).complete([req("a", "one")])
    assert first[0].ok and second[0].cached and second[0].text == first[0].text
    assert len(calls(tmp_path)) == 1


def test_missing_or_wrong_executable_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="vllm_executable is not set"):
        get_backend(LLMConfig(kind="vllm_batch", model="m"))
    with pytest.raises(ConfigError, match="not an executable"):
        get_backend(LLMConfig(kind="vllm_batch", model="m", vllm_executable=str(tmp_path / "nope")))
