"""The frozen program's entry point: the same ``main()`` as the ``coursemig-gui`` command."""

from coursemig_gui.gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
