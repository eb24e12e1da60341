# Production image: web (gunicorn + whitenoise), worker and beat all run from it.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 nhigov
COPY pyproject.toml README.md ./
COPY nhigov ./nhigov
COPY inventory ./inventory
COPY reviews ./reviews
RUN pip install .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
USER nhigov
EXPOSE 8000
# Threaded workers: the main thread keeps the worker's heartbeat while a request thread streams a
# long export (a million-row CSV, a large campaign's evidence bundle), which a sync worker's
# 30 s timeout would kill.
CMD ["gunicorn", "nhigov.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--timeout", "60", "--access-logfile", "-"]
