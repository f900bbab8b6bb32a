-- Rubric mining: error descriptions, embeddings cache, rubric versions with items, members and changes.
-- Idempotent: every statement can run again on an existing database.

-- One description of the first error of a wrong trace, per describer. describer_id hashes
-- (source, prompt id, model, masking version), so a new prompt or model describes again and an
-- unchanged one never does. A description that failed is a row with status 'error' (or 'skipped'
-- when the source has nothing to describe with) and the reason in `error`: never dropped.
CREATE TABLE IF NOT EXISTS error_descriptions (
    trace_id         VARCHAR NOT NULL,
    describer_id     VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,   -- dataset | llm
    origin           VARCHAR,            -- label_error_description | first_error_step | label_error_type | llm
    prompt_id        VARCHAR,            -- hash of the prompt template (llm)
    model            VARCHAR,            -- the LLM that wrote it (llm)
    status           VARCHAR NOT NULL,   -- ok | error | skipped
    description      VARCHAR,            -- the domain-general text that is embedded and clustered
    raw_text         VARCHAR,            -- what the source or the LLM said, before generalising
    keyword          VARCHAR,
    how_to_check     VARCHAR,
    first_error_step INTEGER,            -- 0-based, as the LLM or the source located it
    text_hash        VARCHAR,            -- hash of `description`: the key into text_embeddings
    error            VARCHAR,
    attempts         INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (trace_id, describer_id)
);

-- Embedding cache: a text is embedded once per model, whatever traces share it.
CREATE TABLE IF NOT EXISTS text_embeddings (
    text_hash  VARCHAR NOT NULL,
    model_id   VARCHAR NOT NULL,
    dim        INTEGER NOT NULL,
    embedding  FLOAT[] NOT NULL,   -- L2-normalised
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (text_hash, model_id)
);

-- One build of a rubric. Versions of the same `rubric_name` form one history (parent_version_id).
CREATE TABLE IF NOT EXISTS rubric_versions (
    version_id        VARCHAR PRIMARY KEY,
    rubric_name       VARCHAR NOT NULL,
    parent_version_id VARCHAR,
    seq               INTEGER NOT NULL,   -- 1, 2, ... within rubric_name
    status            VARCHAR NOT NULL,   -- complete | partial | empty
    message           VARCHAR NOT NULL,   -- why partial or empty, and what to do; a summary when complete
    domain            VARCHAR,
    describer_id      VARCHAR NOT NULL,
    embedder          VARCHAR NOT NULL,
    namer             VARCHAR NOT NULL,
    params            JSON NOT NULL,      -- the rubric config the build ran with
    build_key         VARCHAR NOT NULL,   -- hash of (inputs, params): the same build twice is one version
    n_descriptions    INTEGER NOT NULL,
    n_new_traces      INTEGER NOT NULL,   -- traces not in the parent version
    n_items           INTEGER NOT NULL,
    n_categories      INTEGER NOT NULL,
    n_uncategorised   INTEGER NOT NULL,   -- noise that stayed noise
    n_noise_assigned  INTEGER NOT NULL,   -- noise that joined its nearest item
    created_at        TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS rubric_items (
    version_id   VARCHAR NOT NULL,
    item_id      VARCHAR NOT NULL,   -- stable across versions
    name         VARCHAR NOT NULL,
    keyword      VARCHAR NOT NULL,
    description  VARCHAR NOT NULL,
    how_to_check VARCHAR NOT NULL,
    category     VARCHAR NOT NULL,
    examples     JSON NOT NULL,      -- a few real member descriptions (the most central)
    size         INTEGER NOT NULL,
    centroid     FLOAT[] NOT NULL,
    named_by     VARCHAR NOT NULL,   -- offline | llm | offline (llm failed: ...)
    position     INTEGER NOT NULL,   -- order in the rubric (largest first)
    PRIMARY KEY (version_id, item_id)
);

-- Which traces a version was built from, and where each landed (item_id NULL = uncategorised).
CREATE TABLE IF NOT EXISTS rubric_members (
    version_id  VARCHAR NOT NULL,
    trace_id    VARCHAR NOT NULL,
    item_id     VARCHAR,
    assigned_by VARCHAR NOT NULL,   -- cluster | nearest | noise
    similarity  DOUBLE,             -- cosine similarity to the item's centroid
    x           DOUBLE,             -- 2-D map position
    y           DOUBLE,
    PRIMARY KEY (version_id, trace_id)
);

-- What a version changed against its parent: added, kept, merged, split, retired.
CREATE TABLE IF NOT EXISTS rubric_changes (
    version_id VARCHAR NOT NULL,
    change     VARCHAR NOT NULL,
    item_id    VARCHAR NOT NULL,     -- the item in this version (retired: the item of the parent)
    related    VARCHAR[],            -- merged: the parent items it absorbed; split: the parent item it came from
    similarity DOUBLE,               -- centroid similarity to the matched parent item
    PRIMARY KEY (version_id, change, item_id)
);
