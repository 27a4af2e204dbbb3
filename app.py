"""Vision Advisor: `streamlit run app.py`."""

from advisor.ui.main import main

main()
