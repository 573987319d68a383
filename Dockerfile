# relais — the daemon image. Build: docker build -t relais .
# Run:  docker run -d --name relais -p 127.0.0.1:8765:8765 \
#         -v relais-state:/var/lib/relais \
#         -v "$PWD/config:/etc/relais:ro" \
#         -e JIRA_EMAIL -e JIRA_API_TOKEN -e NOTION_TOKEN -e PAGERDUTY_TOKEN \
#         relais
# The mounted config must say daemon.http.listen: 0.0.0.0:8765 for the port to
# be reachable from outside the container (deploy/config/relais.yaml does).
# Examples: deploy/docker-compose.yml, deploy/kubernetes.yaml.
# A registry mirror or a vetted base of your own: --build-arg PYTHON_IMAGE=... (any Debian-like
# image with Python 3.11+, pip and useradd).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RELAIS_CONFIG=/etc/relais/relais.yaml

WORKDIR /opt/relais
# Same install as the Makefile (pip, from pyproject.toml), without the test extras and
# without the sandbox: the image holds the daemon only (`relais demo` is for a checkout).
COPY pyproject.toml README.md ./
COPY connectors ./connectors
COPY sync ./sync
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /var/lib/relais --shell /usr/sbin/nologin relais \
 && mkdir -p /var/lib/relais /etc/relais \
 && chown relais:relais /var/lib/relais

# The state store (SQLite) lives on this volume; point state.path at it in the config,
# e.g. state: {path: /var/lib/relais/relais.db}
VOLUME ["/var/lib/relais"]
USER relais
# /healthz, /readyz, /metrics, the status page and the webhooks (daemon.http).
EXPOSE 8765
# `relais run` stops cleanly on SIGTERM (docker stop); give it daemon.stop_seconds.
STOPSIGNAL SIGTERM

# Healthy while cycles keep finishing: the last one must be younger than 5 minutes.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
  CMD ["relais", "health", "--max-age", "300"]

CMD ["relais", "run"]
