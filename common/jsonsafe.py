"""Plain JSON from whatever a result or a report holds: what a JSONField stores.

PostgreSQL's JSON refuses NaN and infinities, and Django's lazy translations are not JSON at
all; both have lost work before (a NaN loss lost its training job; a lazy label left a report
"rendering" for ever). ``jsonable`` converts what has a JSON meaning and refuses the rest
loudly, with the path of the offending value.
"""

import datetime
import math
import numbers
from decimal import Decimal

from django.utils.functional import Promise


def jsonable(value, path: str = "data"):
    """``value`` as plain JSON types: lazy translations become text, numbers stay numbers
    (numpy's too), NaN and infinities become None, dates ISO text. Anything else raises
    ``TypeError`` naming where it is."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{path} is a {type(value).__name__}, which cannot be stored as JSON")
