"""Recommendation reports: a ranking session as Markdown, self-contained HTML or versioned JSON.

Modules: model (Report + request (de)serialisation), build (build_report), render (charts and
thumbnails), markdown / html / json_io (formats), write (safe writing), cli (`advisor report`).
"""
