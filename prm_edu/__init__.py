"""prm_edu: the helper package of the prm-edu course on Process Reward Models.

The notebooks in `notebooks/` teach; this package does the work they show:
exact worlds (`prm_edu.worlds`), traces and data formats (`prm_edu.data`),
small Hugging Face models (`prm_edu.models`), labelling (`prm_edu.labels`),
metrics (`prm_edu.metrics`), search (`prm_edu.search`) and widgets
(`prm_edu.widgets`).
"""

__version__ = "0.1.0"
