"""bpviz: an interactive, step-by-step explainer of backpropagation."""

__version__ = "0.1.0"
