"""A stand-in for `vllm run-batch`: honours `run-batch -i IN -o OUT --model M`, answers from the request.

It writes results in REVERSE order (readers must match by custom_id), fails lines whose user message says
FAIL, leaves out lines that say SKIP, answers with thinking, appends one line per call to $FAKE_VLLM_CALLS,
and exits 3 without output when the model is named "broken".
"""

import json
import os
import sys


def main(argv: list[str]) -> int:
    assert argv[0] == "run-batch", argv
    args = dict(zip(argv[1::2], argv[2::2]))
    calls = os.environ.get("FAKE_VLLM_CALLS")
    if calls:
        with open(calls, "a") as fh:
            fh.write(json.dumps(argv) + "\n")
    if args["--model"] == "broken":
        print("RuntimeError: CUDA out of memory (pretend)", file=sys.stderr)
        return 3
    lines = [json.loads(line) for line in open(args["-i"], encoding="utf-8") if line.strip()]
    out = []
    for n, line in enumerate(lines):
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions", line
        body = line["body"]
        assert body["model"] == args["--model"], body
        user = body["messages"][-1]["content"]
        if "SKIP" in user:
            continue
        if "FAIL" in user:
            out.append({"id": f"b{n}", "custom_id": line["custom_id"], "response": {"status_code": 400, "body": {"error": "bad request"}}, "error": None})
            continue
        answer = {"content": f"<think>pondering</think>answer to {user}", "role": "assistant"}
        result = {"id": f"chatcmpl-{n}", "choices": [{"index": 0, "message": answer, "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": len(user.split()), "completion_tokens": 3, "total_tokens": 3 + len(user.split())}}
        out.append({"id": f"b{n}", "custom_id": line["custom_id"], "response": {"status_code": 200, "request_id": f"r{n}", "body": result}, "error": None})
    with open(args["-o"], "w", encoding="utf-8") as fh:
        for line in reversed(out):
            fh.write(json.dumps(line) + "\n")
        fh.write("this line is not json\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
