INSERT INTO rubric_changes BY NAME SELECT * FROM incoming
