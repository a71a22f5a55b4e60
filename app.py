"""bpviz entry point: the page list (every page title goes through the translation function)."""

import streamlit as st

from bpviz.i18n import t

# (file, title, icon, url path)
PAGES = [
    ("pages/0_Home.py", "Home", ":material/home:", "home"),
    ("pages/1_Forward_pass.py", "Forward pass", ":material/arrow_forward:", "forward"),
    ("pages/2_Backward_pass.py", "Backward pass", ":material/arrow_back:", "backward"),
    ("pages/3_Update.py", "Update", ":material/update:", "update"),
    ("pages/4_Network_builder.py", "Network builder", ":material/construction:", "builder"),
    ("pages/5_Computational_graph.py", "Computational graph", ":material/account_tree:", "graph"),
    ("pages/6_Matrix_view.py", "Matrix view", ":material/grid_on:", "matrix"),
    ("pages/7_Training.py", "Training", ":material/trending_down:", "training"),
    ("pages/8_Conventions_and_checks.py", "Conventions and checks", ":material/fact_check:", "conventions"),
]

lang = st.session_state["bpviz_app"].lang if "bpviz_app" in st.session_state else "en"
st.navigation([st.Page(path, title=t(title, lang=lang), icon=icon, url_path=None if i == 0 else url, default=(i == 0))
               for i, (path, title, icon, url) in enumerate(PAGES)]).run()
