-- Which incoming text hashes have no embedding from the given model.
SELECT DISTINCT i.text_hash FROM incoming i
WHERE NOT EXISTS (SELECT 1 FROM text_embeddings e WHERE e.text_hash = i.text_hash AND e.model_id = $model_id)
