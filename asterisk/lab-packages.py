"""Print the project's packages that lotse-agi imports: what asterisk/lab copies into the chroot for it.

Read off the script's imports, so that a package that joins them joins the chroot (and tests/test_ivr.py
checks that the script imports with these and the chroot's third-party packages alone).
"""

import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root))
import agi_scripts.lotse_agi  # noqa: E402, F401 - imported for what it imports

files = [pathlib.Path(f).resolve() for f in (getattr(m, "__file__", None) for m in list(sys.modules.values())) if f]
tops = {f.relative_to(root).parts[0] for f in files if f.is_relative_to(root)}
print(" ".join(sorted(top for top in tops if (root / top / "__init__.py").is_file())))
