# One image for the gateway (the default command) and the executor
# (`python -m executors`). Build: docker-compose build --no-cache
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml requirements.lock ./
# Only the runtime dependencies of pyproject.toml, at the versions of
# requirements.lock; wheels only, so no compiler is ever needed.
RUN python -c "import tomllib; \
        project = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
        print(*project['dependencies'], sep='\n')" > runtime.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: -c requirements.lock -r runtime.txt

FROM ${PYTHON_IMAGE}
# libseccomp2 backs the sandbox's seccomp filter (loaded through ctypes).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libseccomp2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin jetfaas
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY shared/ shared/
COPY gateway_api/ gateway_api/
COPY executors/ executors/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    JETFAAS_HEALTH_URL=http://127.0.0.1:3000/healthz
USER 10001:10001
# Each service points JETFAAS_HEALTH_URL at its own endpoint (the executor at
# its metrics port); the interpreter is the only client the image needs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as request; \
         request.urlopen(os.environ['JETFAAS_HEALTH_URL'], timeout=2)"]
CMD ["python", "-m", "gateway_api"]
