INSERT INTO rubric_members BY NAME SELECT * FROM incoming
