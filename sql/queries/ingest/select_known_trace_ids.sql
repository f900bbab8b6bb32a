-- Which of the incoming trace ids are already stored.
SELECT t.trace_id FROM traces t JOIN incoming i USING (trace_id)
