INSERT OR IGNORE INTO text_embeddings BY NAME SELECT * FROM incoming
