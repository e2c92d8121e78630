# Behind a registry mirror: docker build --build-arg PYTHON_IMAGE=mirror.example/python:3.12-slim .
ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    REDLINE_DATABASE_URL=sqlite:////data/redline.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /data redline \
    && mkdir -p /data && chown redline /data

USER redline
VOLUME ["/data"]
ENTRYPOINT ["redline"]
CMD ["run"]
