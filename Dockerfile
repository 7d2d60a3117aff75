# syntax=docker/dockerfile:1.7
# Two images from one file:
#   docker build --target operator -t cloudrec-operator .
#   docker build --target recorder -t cloudrec-recorder .
# Both run as a non-root user and work with a read-only root filesystem.
# tests/packaging/test_image.py builds both with buildah, PYTHON_IMAGE set to a base made
# locally from Debian's packages (no image registry there), and runs them with podman.
# The recorder's media libraries (FFmpeg, with libvpx and opus, in PyAV) come
# from the wheels, so the runtime image needs no extra Debian packages.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS source
WORKDIR /src
COPY pyproject.toml README.md ./
COPY protocol/ protocol/
COPY operator/ operator/
COPY recorder/ recorder/
COPY hack/image-install.sh hack/

FROM source AS build-operator
RUN hack/image-install.sh operator /venv /src

FROM source AS build-recorder
RUN hack/image-install.sh recorder /venv /src

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH
RUN groupadd --system --gid 10001 cloudrec \
 && useradd --system --uid 10001 --gid cloudrec --home-dir /nonexistent --shell /usr/sbin/nologin cloudrec
USER 10001:10001
WORKDIR /tmp

FROM runtime AS operator
COPY --from=build-operator /venv /venv
EXPOSE 8080 8081 9090
ENTRYPOINT ["python", "-m", "cloudrec_operator"]

FROM runtime AS recorder
COPY --from=build-recorder /venv /venv
# Spool and backup directories are volumes (emptyDir / PersistentVolumeClaim).
VOLUME ["/var/spool/cloudrec", "/var/lib/cloudrec/backup"]
EXPOSE 8080
ENTRYPOINT ["python", "-m", "cloudrec_recorder"]
