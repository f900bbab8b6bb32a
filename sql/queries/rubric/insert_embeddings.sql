-- New embeddings; a (text, model) already embedded keeps its first vector.
MERGE INTO text_embeddings
USING (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY text_hash, model_id) = 1) AS new
ON text_embeddings.text_hash = new.text_hash AND text_embeddings.model_id = new.model_id
WHEN NOT MATCHED THEN INSERT BY NAME
