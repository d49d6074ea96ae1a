# syntax=docker/dockerfile:1
# The HCC CDS Hooks service. Start command = the one tested outside Docker: `cds serve`.
# The image cannot know the URL its clients call, so it refuses to start (one line, exit 2)
# until it is given one: run it with at least
#   -e CDS_PUBLIC_BASE_URL=https://cds.hospital.org   (the JWT aud)
#   -e CDS_TRUSTED_ISSUERS_FILE=/config/issuers.json  (the EHRs allowed to call)
#   -e CDS_FHIR_SERVER_ALLOWLIST=https://fhir.hospital.org/r4
# (README, "Security"). The JWT check is never turned off by default.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cds ./cds
COPY cards ./cards
COPY fhir_fixtures ./fhir_fixtures
# The wheel carries cards/ and fhir_fixtures/ inside the package (pyproject force-include).
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin cds \
    && mkdir -p /data && chown cds /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER cds
WORKDIR /data
ENV PYTHONUNBUFFERED=1 \
    CDS_BIND=0.0.0.0:8080 \
    CDS_DATABASE=/data/hcc-cds.sqlite3
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]
CMD ["cds", "serve"]
