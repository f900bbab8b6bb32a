"""Rule-based final-answer verification: extract the final answer, compare it with the gold answer.

extract.py (where is the answer), compare.py (is it the gold answer; its docstring lists the modules
behind it), rules.py (one verdict), pool.py (worker processes with a hard time limit per item),
stage.py (the pipeline stage).
Importing this package imports nothing heavy; math-verify loads on the first comparison that needs it.
"""
