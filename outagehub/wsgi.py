from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from outagehub.bodies import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outagehub.settings")
application = ChunkedBodyMiddleware(get_wsgi_application())
