"""bpviz (`streamlit run app.py`): the entry script. The pages are listed once, in ``bpviz.ui.navigation.PAGES``;
their scripts are in ``views/``."""

from bpviz.ui import boundary

boundary.main()
