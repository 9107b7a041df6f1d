from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from outagehub.bodies import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outagehub.settings")
django_application = get_wsgi_application()

# After Django is set up: the front imports models. It answers plain report POSTs before Django's
# middlewares (reports/api/front.py) and hands everything else to Django.
from reports.api.front import ReportFront  # noqa: E402

application = ChunkedBodyMiddleware(ReportFront(django_application))
