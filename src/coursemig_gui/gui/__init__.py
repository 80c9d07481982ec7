"""The PySide6 wizard: thin pages over coursemig_gui.core."""
