# The dashboard as a container image: `docker build -t trial-dashboard .` then
# `docker run -p 5006:5006 trial-dashboard` (bundled trial) or mount a data folder:
# `docker run -p 5006:5006 -v /path/to/trial:/data:ro trial-dashboard serve /data --num-procs 2 ...`.
# Every asset is served by the container itself (no CDN): the page works on an offline network.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY data ./data
# editable: the bundled trial (data/) stays next to the package, where the code looks for it
RUN pip install -e . && useradd --create-home dashboard
USER dashboard

EXPOSE 5006
# /liveness answers 200 while the server runs (Panel's health check); the reverse proxy uses it too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5006/liveness', timeout=4)"
ENTRYPOINT ["trial-dashboard"]
# Behind a reverse proxy, allow the public host name for the websocket: -e BOKEH_ALLOW_WS_ORIGIN=dashboard.example.org
# (see deploy/README.md).
CMD ["serve", "--address", "0.0.0.0", "--port", "5006", "--num-procs", "2"]
