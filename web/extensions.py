"""Flask extensions of the web shell, created once at import and bound in ``create_app``.

The database handle itself lives in the core (``core.db``): jobs and the command line share it.
"""

from flask_migrate import Migrate
from flask_wtf import CSRFProtect

migrate = Migrate()
csrf = CSRFProtect()
