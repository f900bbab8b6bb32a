"""Chat-message columns (list<struct<role, content>>), the shape verl and TRL read prompts and completions in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


def message_type() -> "pa.DataType":
    import pyarrow as pa

    return pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def messages(role: str, texts: "pa.Array", system_prompt: str | None) -> "pa.Array":
    """A list<struct<role, content>> column: [system?, {role, texts[i]}] per row, built without Python loops."""
    import pyarrow as pa

    n = len(texts)
    if system_prompt is None:
        roles = pa.array([role] * n, pa.string())
        structs = pa.StructArray.from_arrays([roles, texts.cast(pa.string())], names=["role", "content"])
        offsets = pa.array(range(0, n + 1), pa.int32())
    else:
        # interleave system and user messages: positions 2i (system) and 2i+1 (the row's text)
        import pyarrow.compute as pc

        roles = pa.array(["system", role] * n, pa.string())
        idx = pa.array([i for k in range(n) for i in (n, k)], pa.int64())  # index n = the system prompt
        contents = pc.take(pa.concat_arrays([texts.cast(pa.string()), pa.array([system_prompt], pa.string())]), idx)
        structs = pa.StructArray.from_arrays([roles, contents], names=["role", "content"])
        offsets = pa.array(range(0, 2 * n + 1, 2), pa.int32())
    return pa.ListArray.from_arrays(offsets, structs, type=message_type())
