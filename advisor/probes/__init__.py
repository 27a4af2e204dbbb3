"""Live invariance probes: how much a model's prediction moves when the user's images are transformed.

    images.py      safe image intake (PIL only): load_image, load_images, bundled_images
    transforms.py  the transform families (torch, kornia): get_family, list_families, transformed_strip
    invariance.py  run_probe: every (model, image, family) in shared batches, cached
    results.py     ProbeResult (pandas only): rows, summary, JSON round trip, measured scores
    labels.py      ImageNet class names for showing changed predictions

Models are loaded through `advisor.models`. Import names from their module; this package itself stays
empty, so importing intake or saved results never pulls in torch:

    from advisor.probes.images import load_image
    from advisor.probes.invariance import run_probe
    result = run_probe([load_image(data, "cat.jpg")], ["timm:tf_efficientnet_lite0.in1k"], ["scale"])
    result.rows, result.summary, result.to_json()
"""
