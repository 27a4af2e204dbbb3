"""One module per model library (timm, open_clip), each exposing `BACKEND`, an `advisor.models.interface.Backend`.

A backend imports only the layers below it (interface, checkpoints, locations) and never another backend;
`advisor.models.registry` lists them. Adding a weights route is one module here plus one registry entry.
"""
