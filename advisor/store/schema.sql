-- Vision Advisor property store. Every column is documented in precomputed/README.md.
CREATE TABLE sources (
    source_id      VARCHAR PRIMARY KEY,
    title          VARCHAR NOT NULL,
    citation       VARCHAR NOT NULL,
    repo           VARCHAR NOT NULL,
    file           VARCHAR NOT NULL,
    "commit"       VARCHAR NOT NULL,
    licence        VARCHAR NOT NULL,
    non_commercial BOOLEAN NOT NULL
);
CREATE TABLE properties (
    property_id      VARCHAR PRIMARY KEY,
    need             VARCHAR NOT NULL,
    label            VARCHAR NOT NULL,
    unit             VARCHAR NOT NULL,
    higher_is_better BOOLEAN NOT NULL,
    description      VARCHAR NOT NULL,
    reference        VARCHAR NOT NULL
);
CREATE TABLE models (
    model_id        VARCHAR PRIMARY KEY,
    display_name    VARCHAR NOT NULL,
    family          VARCHAR,
    arch_type       VARCHAR,
    paradigm        VARCHAR,
    pretrain_data   VARCHAR,
    finetune_data   VARCHAR,
    params_m        DOUBLE,
    gmacs           DOUBLE,
    img_size        INTEGER,
    loader          VARCHAR,
    load_name       VARCHAR,
    weights_licence VARCHAR,
    derived_from    VARCHAR,
    meta_source_id  VARCHAR,
    params_m_source        VARCHAR,
    gmacs_source           VARCHAR,
    img_size_source        VARCHAR,
    weights_licence_source VARCHAR,
    pretrain_data_source   VARCHAR,
    metadata_note   VARCHAR,
    obtainable      BOOLEAN NOT NULL,
    weights_from    VARCHAR NOT NULL,
    load_call       VARCHAR,
    obtain_note     VARCHAR NOT NULL,
    weights_url     VARCHAR,
    weights_sha256  VARCHAR
);
CREATE TABLE scores (
    model_id    VARCHAR NOT NULL,
    property_id VARCHAR NOT NULL,
    item        VARCHAR NOT NULL,
    value       DOUBLE NOT NULL,
    source_id   VARCHAR NOT NULL,
    "precision" VARCHAR NOT NULL,
    note        VARCHAR NOT NULL,
    protocol    VARCHAR NOT NULL,
    classifier  VARCHAR NOT NULL
);
CREATE TABLE protocols (
    protocol_id VARCHAR PRIMARY KEY,
    test_set    VARCHAR NOT NULL,
    label_set   VARCHAR NOT NULL,
    classifier  VARCHAR NOT NULL,
    resolution  VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);
CREATE TABLE links (
    property_id        VARCHAR NOT NULL,
    item               VARCHAR NOT NULL,
    protocol           VARCHAR NOT NULL,
    source_id          VARCHAR NOT NULL,
    reference_protocol VARCHAR NOT NULL,
    reference_source   VARCHAR NOT NULL,
    n_shared           INTEGER NOT NULL,
    method             VARCHAR NOT NULL,
    slope              DOUBLE,
    intercept          DOUBLE,
    residual_sd        DOUBLE,
    max_abs_residual   DOUBLE,
    half80             DOUBLE,
    heldout_spearman   DOUBLE,
    note               VARCHAR NOT NULL
);
CREATE TABLE aliases (
    source_id      VARCHAR NOT NULL,
    name_in_source VARCHAR NOT NULL,
    model_id       VARCHAR NOT NULL,
    confidence     VARCHAR NOT NULL
);
CREATE TABLE conflicts (
    model_id    VARCHAR NOT NULL,
    property_id VARCHAR NOT NULL,
    item        VARCHAR NOT NULL,
    protocol    VARCHAR NOT NULL,
    source_a    VARCHAR NOT NULL,
    value_a     DOUBLE NOT NULL,
    source_b    VARCHAR NOT NULL,
    value_b     DOUBLE NOT NULL,
    abs_diff    DOUBLE NOT NULL,
    tolerance   DOUBLE NOT NULL
);
CREATE TABLE quba_constants (
    position              INTEGER NOT NULL,
    need                  VARCHAR PRIMARY KEY,
    dimension             VARCHAR NOT NULL,
    property_id           VARCHAR NOT NULL,
    source_id             VARCHAR NOT NULL,
    mean                  DOUBLE NOT NULL,
    std                   DOUBLE NOT NULL,
    default_weight_signed DOUBLE NOT NULL,
    higher_is_better      BOOLEAN NOT NULL,
    scale                 DOUBLE NOT NULL
);
CREATE TABLE duplicate_candidates (
    model_a     VARCHAR NOT NULL,
    model_b     VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL,
    family      VARCHAR,
    params_m_a  DOUBLE,
    params_m_b  DOUBLE,
    top1_a      DOUBLE,
    source_a    VARCHAR,
    top1_b      DOUBLE,
    source_b    VARCHAR,
    top1_diff   DOUBLE,
    verdict     VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL
);
CREATE TABLE build_info (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
