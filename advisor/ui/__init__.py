"""The Streamlit UI: the only package that imports streamlit (besides app.py)."""
