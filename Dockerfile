# issuer-sandbox container image: multi-stage, non-root, scenarios and fixtures baked in.
#
#   docker build -t issuer-sandbox .
#   docker run --rm -p 127.0.0.1:8080:8080 -e ISSUER_SANDBOX_ADMIN_TOKEN=s3cret issuer-sandbox
#   docker run --rm -p 127.0.0.1:8080:8080 -v "$PWD/ci.yaml:/scenario.yaml:ro" \
#     -e ISSUER_SANDBOX_SCENARIO=/scenario.yaml -e ISSUER_SANDBOX_ADMIN_TOKEN=s3cret issuer-sandbox

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits reuse the cached dependency layer.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/it \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs tests/it/main.rs \
 && cargo build --release --locked --bin issuer-sandbox \
 && rm -rf src tests
COPY src src
COPY tests tests
COPY scenarios scenarios
COPY fixtures fixtures
# touch: the placeholder build left newer timestamps on the crate's own artefacts.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin issuer-sandbox \
 && mkdir -p /state

# Same Debian release as the builder (glibc), no shell, no package manager, uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/issuer-sandbox /usr/local/bin/issuer-sandbox
COPY --from=build /src/scenarios /opt/issuer-sandbox/scenarios
COPY --from=build /src/fixtures /opt/issuer-sandbox/fixtures
# Owned by the non-root user, so a named volume mounted here starts writable.
COPY --from=build --chown=65532:65532 /state /var/lib/issuer-sandbox
WORKDIR /opt/issuer-sandbox
# Inside a container the sandbox must listen on all interfaces, and the host calls the control
# API from outside the container: allowed, but only with a token. Set ISSUER_SANDBOX_ADMIN_TOKEN,
# or the sandbox makes a random one and prints it in its banner (docker logs). Logs as JSON lines.
ENV ISSUER_SANDBOX_BIND=0.0.0.0:8080 \
    ISSUER_SANDBOX_TLS_BIND=0.0.0.0:8443 \
    ISSUER_SANDBOX_ADMIN_ALLOW_REMOTE=true \
    ISSUER_SANDBOX_LOG_FORMAT=json
# 8443 is HTTPS with the sandbox CA (GET /__admin/ca.pem; add names with
# ISSUER_SANDBOX_TLS_NAMES=sandbox.example,10.0.0.5).
EXPOSE 8080 8443
# `serve --state` keeps the running state across restarts; mount a volume here and set
# ISSUER_SANDBOX_STATE=/var/lib/issuer-sandbox/state.json to use it.
VOLUME ["/var/lib/issuer-sandbox"]
USER nonroot
# The binary checks itself (distroless has no curl) over loopback, which needs no made-up
# token; it sends ISSUER_SANDBOX_ADMIN_TOKEN when one is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
  CMD ["/usr/local/bin/issuer-sandbox", "healthcheck", "--url", "http://127.0.0.1:8080"]
# SIGTERM (docker stop) drains open connections, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/issuer-sandbox"]
CMD ["serve"]
