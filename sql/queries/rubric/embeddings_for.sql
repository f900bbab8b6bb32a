-- Embeddings of the incoming text hashes, in the incoming order (position column).
SELECT i.position, e.embedding
FROM incoming i
JOIN text_embeddings e ON e.text_hash = i.text_hash AND e.model_id = $model_id
ORDER BY i.position
