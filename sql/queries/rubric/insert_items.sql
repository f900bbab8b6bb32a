INSERT INTO rubric_items BY NAME SELECT * REPLACE (CAST(examples AS JSON) AS examples) FROM incoming
