"""`python -m coursemig_gui` opens the wizard."""

from coursemig_gui.gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
