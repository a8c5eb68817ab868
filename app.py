"""gunicorn target: `gunicorn 'app:app'`. Nothing else lives here."""
from kestra_lite.web import create_app

app = create_app()
