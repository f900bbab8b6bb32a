-- New descriptions, and retried ones replacing their failed attempt.
MERGE INTO error_descriptions
USING (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY trace_id, describer_id) = 1) AS new
ON error_descriptions.trace_id = new.trace_id AND error_descriptions.describer_id = new.describer_id
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME
