"""The demo's own data set: generated word problems with step-by-step traces and exact error labels.

No outside data; the `sample` reader (rubricate.ingest.readers.sample) ingests it with
`options: {n_problems: 60, seed: 0, k: 3, error_rate: 0.35, mc_rate: 0.15}`.
Problem i is generated from (seed, i) alone, so a smaller `n_problems` gives a prefix of a larger one and the
same seed always gives the same traces (and the same trace ids: re-ingest adds nothing).

Each problem comes from one of twelve templates in templates.yaml (shopping, discounts and tax, travel time,
linear equations, ages, inclusive page ranges, fence posts, class percentages, baking in kilograms, a leaking
tank, weekly savings, billable minutes) and is solved as a small chain of computing steps. Each of its `k`
sampled traces is either correct or has exactly one injected error of a known type at a known step; the error
propagates through the later steps the way a real slip would:

  arithmetic_slip      a result is miscalculated (sometimes "silent": the wrong number is written but the later
                       steps go on with the right one, so the final answer is right and the reasoning is not)
  wrong_operation      adds instead of subtracting, divides instead of multiplying, ...
  dropped_condition    a step the problem requires (the tax, the rest stop, the leak) is left out
  unit_conversion      a wrong factor (100 minutes per hour, 100 g per kg)
  sign_error           a term moved across the equals sign keeps its sign
  misread_quantity     a number given in the problem is copied wrongly (digits swapped, ...) from its first use on
  off_by_one           an inclusive count or fence-post count is one short
  answer_mismatch      the work is right but the stated final answer is not what it produced

Labels: label_error_type is one of those codes; label_error_description is a short domain-general sentence
drawn from several phrasings per type (so clustering has real signal, not one string per type);
label_first_error_step is the 0-based step where the error first shows; label_correct is False iff an error
was injected; label_final_answer_correct compares the stated answer with the gold answer.
Final answers come in mixed styles (\\boxed{}, "The answer is X.", "Answer: X", a bare last line, "#### X",
with units, dollars or percent signs) and some problems are multiple choice (gold = the letter), so the
answer verifier has real work. Traces are split by template category (arithmetic, percent, units, algebra,
counting, rates); domain = math.

The pieces: templates.yaml (the data) and templates.py (its schema, drawing a problem; draws.py evaluates the
`draw:` expressions), solve.py (working the steps with an injected error), numbers.py, answers.py (how the
final answer is written), generator.py (the traces and their labels).
"""

from rubricate.demo.generator import SampleOptions, generate
from rubricate.demo.templates import ERROR_TYPES

__all__ = ["ERROR_TYPES", "SampleOptions", "generate"]
