"""The frozen program's entry point, shared by the bundle's two executables.

``coursemig`` is the wizard (the same ``main()`` as the ``coursemig-gui`` command);
``coursemig-cli`` (a console program on Windows) is the ``coursemig`` command line, which
install.sh puts on the PATH as ``coursemig``. ``coursemig --cli ARGS`` reaches the command line
from the wizard's executable too.
"""

import sys
from pathlib import Path


def _wants_cli(argv: list[str]) -> bool:
    # the executable's own name, with links followed: install.sh links bin/coursemig to it
    names = [Path(sys.executable).resolve().name, Path(argv[0]).resolve().name if argv else ""]
    return any(n.lower().startswith("coursemig-cli") for n in names) or argv[1:2] == ["--cli"]


if __name__ == "__main__":
    if _wants_cli(sys.argv):
        from coursemig_gui.cli import main as cli_main

        args = sys.argv[1:]
        raise SystemExit(cli_main(args[1:] if args[:1] == ["--cli"] else args))
    from coursemig_gui.gui.app import main

    raise SystemExit(main())
