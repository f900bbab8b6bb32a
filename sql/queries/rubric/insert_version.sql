INSERT INTO rubric_versions
    (version_id, rubric_name, parent_version_id, seq, status, message, domain, describer_id, embedder, namer, params,
     build_key, n_descriptions, n_new_traces, n_items, n_categories, n_uncategorised, n_noise_assigned, created_at)
VALUES
    ($version_id, $rubric_name, $parent_version_id, $seq, $status, $message, $domain, $describer_id, $embedder, $namer,
     $params, $build_key, $n_descriptions, $n_new_traces, $n_items, $n_categories, $n_uncategorised, $n_noise_assigned, $created_at)
