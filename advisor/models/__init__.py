"""Model plugins: parse a model id, find or download its weights, load it, run it (timm's registry pattern).

Layered one way (an import-linter contract in pyproject.toml; each module imports only from layers below):

    loaded       LoadedModel, load_model: a ready model, its forward pass and capabilities (zero-shot heads)
    download     plan_download, download_weights: with consent, bounded, checked, into the HF cache
    weights      find_weights, probe_readiness, ready_model_ids: what is on this machine (no network)
    registry     BACKENDS, parse_model_id, DEFAULT_MODELS: id namespace -> backend
    backends/    one module per model library (timm, open_clip), independent of each other
    checkpoints | locations | precision | transfer: pure helpers (safe weights reading, cache folders,
                 precision, a bounded HTTP transfer)
    interface    the Backend protocol, optional capabilities, and the records they pass

Probes (`advisor.probes`) and evaluation (`advisor.evaluate`) use models only through these modules; nothing
outside `backends/` names a model library. Importing any module but `loaded` is cheap (no torch).

    from advisor.models.loaded import load_model
    model = load_model("timm:tf_efficientnet_lite0.in1k")
    logits, embeddings = model.forward(images01)
"""
